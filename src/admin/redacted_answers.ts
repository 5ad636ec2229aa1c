/**
 * Keeps secrets out of what the admin API answers: every JSON answer passes through
 * {@linkcode redactSecrets} on its way out, whichever route made it, so a route cannot forget.
 * @module
 */
import type { MiddlewareHandler } from "hono";
import { redactSecrets } from "../config/secrets.ts";
import type { GatewayEnv } from "../gateway_env.ts";

/** Redacts the instance secrets (`api-key`, secret header values) of JSON answers. */
export function redactedAnswers(): MiddlewareHandler<GatewayEnv> {
  return async function redactedAnswers(c, next) {
    await next();
    const response = c.res;
    if (!response.headers.get("content-type")?.includes("application/json")) return;
    const text = await response.clone().text();
    if (!text.includes("api-key") && !text.includes("apiKey") && !text.includes("headers")) return;
    const headers = new Headers(response.headers);
    headers.delete("content-length");
    c.res = undefined;
    c.res = new Response(JSON.stringify(redactSecrets(JSON.parse(text))), {
      status: response.status,
      headers,
    });
  };
}

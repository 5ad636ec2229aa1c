import type { MiddlewareHandler } from "hono";
import type { Authenticator } from "../auth/authenticator.ts";
import { GatewayError } from "../errors.ts";
import type { GatewayEnv } from "../gateway_env.ts";
import type { Origin } from "../net/forwarding.ts";

/**
 * Lets through only clients with a valid API key or token, and tells later handlers who they
 * are. A refusal is a 401 in OpenAI's shape, with `WWW-Authenticate`.
 */
export function clientAuth(
  auth: Authenticator,
  originOf: (peer: string, headers: Headers) => Origin,
): MiddlewareHandler<GatewayEnv> {
  return async function clientAuth(c, next) {
    // The service routes know the client's origin already; other routes read it here.
    const origin = c.get("origin") ??
      originOf(c.env?.remoteAddr?.hostname ?? "unknown", c.req.raw.headers);
    const clientIp = origin.clientIp;
    const result = await auth.authenticate(c.req.raw.headers, clientIp);
    if (!result.ok) {
      const { status, code, message, type, headers } = result.error;
      throw new GatewayError(status, code, message, {
        type,
        headers: { ...headers, "www-authenticate": 'Bearer realm="switchyard"' },
      });
    }
    c.set("identity", result.identity);
    c.get("record")?.identified(result.identity.id, result.identity.team);
    await next();
  };
}

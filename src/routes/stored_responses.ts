/**
 * The stored-response routes of the Responses API: retrieve, delete, input items. Mounted after
 * the status routes, so that `/v1/responses/status` stays the service's status.
 * @module
 */
import { z } from "@hono/zod-openapi";
import type { GatewayApp } from "../gateway_env.ts";
import { storedResponse, type StoredResponseAction } from "../proxy/stored_responses.ts";
import type { ProxyDeps } from "../proxy/types.ts";
import { ErrorSchema } from "./schemas.ts";

const errorContent = { "application/json": { schema: ErrorSchema } };
const params = z.object({ id: z.string().openapi({ example: "resp_0123abcd" }) });

const ROUTES: readonly {
  method: "get" | "delete";
  path: string;
  action: StoredResponseAction;
  summary: string;
}[] = [
  { method: "get", path: "/v1/responses/{id}", action: "retrieve", summary: "A stored response" },
  {
    method: "delete",
    path: "/v1/responses/{id}",
    action: "delete",
    summary: "Delete a stored response",
  },
  {
    method: "get",
    path: "/v1/responses/{id}/input_items",
    action: "input_items",
    summary: "The input items of a stored response",
  },
];

/** Mounts `GET`/`DELETE /v1/responses/{id}` and `GET /v1/responses/{id}/input_items`. */
export function mountStoredResponseRoutes(app: GatewayApp, deps: ProxyDeps): void {
  for (const route of ROUTES) {
    app.openAPIRegistry.registerPath({
      method: route.method,
      path: route.path,
      tags: ["OpenAI API"],
      summary: route.summary,
      description: "Asked of the backends that serve the Responses API themselves, in turn; " +
        "the first that keeps the response answers, unchanged.",
      request: { params },
      responses: {
        200: { description: "The backend's answer" },
        404: {
          description: "No such response, or one of a model the caller's key may not use",
          content: errorContent,
        },
      },
    });
    const path = route.path.replace("{id}", ":id");
    app[route.method](path, function askStoredResponse(c) {
      const url = new URL(c.req.url);
      return storedResponse({
        id: c.req.param("id") ?? "",
        action: route.action,
        query: url.search,
        identity: c.get("identity"),
        signal: c.req.raw.signal,
      }, deps);
    });
  }
}

/**
 * The OpenAI-compatible `/v1` API: one proxied route per service, and the model list.
 * @module
 */
import { createRoute } from "@hono/zod-openapi";
import type { GatewayApp } from "../gateway_env.ts";
import { forward, type ProxyDeps } from "../proxy/forward.ts";
import { SERVICE_ENDPOINTS, SERVICE_TYPES } from "../services.ts";
import {
  ErrorSchema,
  isOpenAiService,
  ModelListSchema,
  REQUEST_SCHEMAS,
  RESPONSE_DESCRIPTIONS,
} from "./schemas.ts";

const errorContent = { "application/json": { schema: ErrorSchema } };

/** Mounts the seven services, `/v1/completions` and `GET /v1/models`. */
export function mountOpenAiRoutes(app: GatewayApp, deps: ProxyDeps & { startedAt: Date }): void {
  for (const service of SERVICE_TYPES) {
    if (!isOpenAiService(service)) continue;
    const endpoint = SERVICE_ENDPOINTS[service];
    const mediaType = endpoint.body === "json" ? "application/json" : "multipart/form-data";
    app.openAPIRegistry.registerPath({
      method: "post",
      path: endpoint.path,
      tags: ["OpenAI API"],
      summary: endpoint.title,
      request: {
        body: { required: true, content: { [mediaType]: { schema: REQUEST_SCHEMAS[service] } } },
      },
      responses: {
        200: { description: RESPONSE_DESCRIPTIONS[service] },
        400: { description: "Bad JSON or no model", content: errorContent },
        404: { description: "Unknown model", content: errorContent },
        413: { description: "Body too large", content: errorContent },
        415: { description: "Wrong content type", content: errorContent },
        429: {
          description: "A rate limit, or every instance busy and the queue full (see Retry-After)",
          content: errorContent,
        },
        502: { description: "The backend failed", content: errorContent },
        503: {
          description: "No instance available, the queue wait ran out, or the fallback answered",
          content: errorContent,
        },
        504: { description: "The backend timed out", content: errorContent },
      },
    });
    app.post(endpoint.path, function proxy(c) {
      const origin = c.get("origin");
      const record = c.get("observer");
      if (!origin || !record) throw new Error("observeRequests must run before the proxy routes");
      return forward({
        service,
        request: c.req.raw,
        clientIp: origin.clientIp,
        forwardedFor: origin.forwardedFor,
        requestId: c.get("requestId"),
        identity: c.get("identity"),
        delivered: c.env?.completed,
        record,
      }, deps);
    });
  }

  const created = Math.floor(deps.startedAt.getTime() / 1000);
  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/models",
      tags: ["OpenAI API"],
      summary: "Models served",
      responses: {
        200: {
          description: "Every configured model, and every model a discovering backend lists",
          content: { "application/json": { schema: ModelListSchema } },
        },
      },
    }),
    (c) => {
      const identity = c.get("identity");
      const models = identity
        ? deps.registry.snapshot.models.filter((model) => identity.allows(model.id))
        : deps.registry.snapshot.models;
      return c.json({
        object: "list" as const,
        data: models.map((model) => ({
          id: model.id,
          object: "model" as const,
          created,
          owned_by: model.ownedBy,
        })),
      }, 200);
    },
  );
}

/**
 * The OpenAI-compatible `/v1` API: one proxied route per service, and the model list.
 * @module
 */
import { createRoute, z } from "@hono/zod-openapi";
import { GatewayError } from "../errors.ts";
import type { GatewayApp } from "../gateway_env.ts";
import type { ProxyDeps } from "../proxy/forward.ts";
import { proxyRoute } from "./proxy_route.ts";
import { SERVICE_ENDPOINTS, SERVICE_TYPES } from "../services.ts";
import {
  ErrorSchema,
  isOpenAiService,
  ModelListSchema,
  ModelSchema,
  REQUEST_SCHEMAS,
  RESPONSE_DESCRIPTIONS,
} from "./schemas.ts";

const errorContent = { "application/json": { schema: ErrorSchema } };

/** Mounts one route per service, `GET /v1/models` and `GET /v1/models/{id}`. */
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
        400: {
          description: "Bad JSON, no model, or a field a translation cannot carry",
          content: errorContent,
        },
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
    app.post(endpoint.path, proxyRoute({ service }, deps));
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

  app.openAPIRegistry.registerPath({
    method: "get",
    path: "/v1/models/{id}",
    tags: ["OpenAI API"],
    summary: "One model",
    description: "A model id may contain `/` and `:`, as in `org/model:tag`, escaped or not.",
    request: { params: z.object({ id: z.string().openapi({ example: "org/model:tag" }) }) },
    responses: {
      200: {
        description: "The model, when it is served and the caller's key may use it",
        content: { "application/json": { schema: ModelSchema } },
      },
      404: {
        description: "Unknown model, or one the caller's key may not use",
        content: errorContent,
      },
    },
  });
  // `{.+}` lets the id run over `/`: model ids such as `org/model:tag` are common.
  app.get("/v1/models/:id{.+}", function retrieveModel(c) {
    const id = c.req.param("id");
    const identity = c.get("identity");
    const model = identity && !identity.allows(id)
      ? undefined
      : deps.registry.snapshot.models.find((model) => model.id === id);
    if (model === undefined) {
      // A model the key may not use is not revealed to exist.
      throw new GatewayError(404, "model_not_found", `The model "${id}" does not exist`, {
        param: "model",
        type: "invalid_request_error",
      });
    }
    return c.json({ id: model.id, object: "model" as const, created, owned_by: model.ownedBy });
  });
}

/**
 * The per-service status endpoints, named as JAiRouter names them (`/v1/chat/status`…).
 * @module
 */
import { createRoute } from "@hono/zod-openapi";
import type { GatewayApp } from "../gateway_env.ts";
import type { Registry } from "../registry/registry.ts";
import type { ServiceRuntime } from "../registry/snapshot.ts";
import { SERVICE_ENDPOINTS, SERVICE_TYPES } from "../services.ts";
import { ServiceStatusSchema } from "./schemas.ts";

/** Mounts `GET <statusPath>` for every service. */
export function mountStatusRoutes(app: GatewayApp, registry: Registry): void {
  for (const service of SERVICE_TYPES) {
    const endpoint = SERVICE_ENDPOINTS[service];
    app.openapi(
      createRoute({
        method: "get",
        path: endpoint.statusPath,
        tags: ["Status"],
        summary: `${endpoint.title}: instances and their state`,
        responses: {
          200: {
            description: "The service's strategy and instances",
            content: { "application/json": { schema: ServiceStatusSchema } },
          },
        },
      }),
      (c) => c.json(serviceStatus(registry.snapshot.services[service]), 200),
    );
  }
}

/** A service's status, as the status endpoint shows it. */
export function serviceStatus(service: ServiceRuntime) {
  return {
    service: service.type,
    endpoint: SERVICE_ENDPOINTS[service.type].path,
    strategy: service.loadBalance.type,
    derivedFrom: service.derivedFrom ?? null,
    settings: service.settings,
    instances: service.upstreams.map((upstream) => ({
      id: upstream.id,
      name: upstream.name,
      baseUrl: upstream.baseUrl,
      path: upstream.path,
      weight: upstream.weight,
      adapter: upstream.adapter,
      activeRequests: upstream.state.active,
      requests: upstream.state.requests,
      failures: upstream.state.failures,
      lastError: upstream.state.lastError,
    })),
  };
}

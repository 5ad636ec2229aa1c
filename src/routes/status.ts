/**
 * The per-service status endpoints, named as JAiRouter names them (`/v1/chat/status`…).
 * @module
 */
import { createRoute } from "@hono/zod-openapi";
import type { GatewayApp } from "../gateway_env.ts";
import { isAvailable } from "../registry/availability.ts";
import { isEjected } from "../health/outlier.ts";
import type { Registry } from "../registry/registry.ts";
import type { LoadState } from "../health/backend_state.ts";
import type { LiveLimit } from "../limiter/admission.ts";
import type { ServiceRuntime } from "../registry/snapshot.ts";
import { SERVICE_ENDPOINTS, SERVICE_TYPES } from "../services.ts";
import { ServiceStatusSchema } from "./schemas.ts";

/** Mounts `GET <statusPath>` for every service. */
export function mountStatusRoutes(
  app: GatewayApp,
  registry: Registry,
  now: () => number = Date.now,
): void {
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
      (c) => c.json(serviceStatus(registry.snapshot.services[service], now()), 200),
    );
  }
}

/** A service's status, as the status endpoint shows it, at clock time `now`. */
export function serviceStatus(service: ServiceRuntime, now: number) {
  return {
    service: service.type,
    endpoint: SERVICE_ENDPOINTS[service.type].path,
    strategy: service.loadBalance.type,
    derivedFrom: service.derivedFrom ?? null,
    settings: service.settings,
    limits: service.limits.map((limit) => limitStatus(limit, now)),
    queues: queueStatus(service),
    instances: service.upstreams.map((upstream) => {
      const { state, backend } = upstream;
      const { status, changedAt, reason, lastFailure } = backend.health;
      return {
        id: upstream.id,
        name: upstream.name,
        baseUrl: upstream.baseUrl,
        path: upstream.path,
        weight: upstream.weight,
        adapter: upstream.adapter,
        status: upstream.status,
        activeRequests: state.active,
        activeTokens: state.activeTokens,
        requests: state.requests,
        failures: state.failures,
        lastError: state.lastError,
        available: upstream.status === "active" && isAvailable(upstream, now),
        health: { status, changedAt, reason, lastFailure },
        ejection: state.ejection === null ? null : {
          ejected: isEjected(state, backend.health, now),
          until: new Date(state.ejection.until).toISOString(),
          reason: state.ejection.reason,
          ejections: state.ejections,
        },
        discovered: upstream.discover && backend.models ? [...backend.models] : null,
        capabilities: upstream.capabilities ?? null,
        learnedCapabilities: backend.capabilities ? Object.fromEntries(backend.capabilities) : null,
        load: backend.load ? loadStatus(backend.load) : null,
        breaker: upstream.breaker?.snapshot(now) ?? null,
        coolingDownUntil: state.cooldownUntil > now
          ? new Date(state.cooldownUntil).toISOString()
          : null,
        maxConcurrency: upstream.maxConcurrency === Infinity ? null : upstream.maxConcurrency,
        limits: upstream.limits.map((limit) => limitStatus(limit, now)),
      };
    }),
  };
}

/** The waiting lines of a service's models, as the status endpoints show them. */
export function queueStatus(service: ServiceRuntime) {
  return service.pools().flatMap((pool) =>
    pool.queue ? [{ model: pool.name, waiting: pool.queue.length, size: pool.queue.size }] : []
  );
}

/** A limit as the status endpoints show it. */
export function limitStatus({ policy, key, limiters }: LiveLimit, now: number) {
  const { algorithm, capacity, rate } = policy.settings;
  return {
    policy: policy.id,
    scope: policy.scope,
    algorithm,
    capacity,
    rate,
    trackedKeys: limiters.size,
    remaining: key.by === "fixed" ? limiters.peek(key.key, now).remaining : null,
  };
}

function loadStatus({ reading, at }: LoadState) {
  const { loadedModels, ...counts } = reading;
  return { ...counts, ...(loadedModels ? { loadedModels: [...loadedModels] } : {}), at };
}

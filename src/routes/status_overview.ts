/**
 * `GET /status.json`: the whole gateway at a glance, for the status page: every service and
 * instance with health, breaker and live counters, and the latest failed requests. Rates and
 * mean latencies are left to the reader, from the difference between two reads.
 * @module
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { GatewayApp } from "../gateway_env.ts";
import { isAvailable } from "../registry/availability.ts";
import { isEjected } from "../health/outlier.ts";
import type { SyncStatus } from "../limiter/shared_counts.ts";
import type { Telemetry } from "../observe/telemetry.ts";
import type { Registry } from "../registry/registry.ts";
import { SERVICE_ENDPOINTS, SERVICE_TYPES } from "../services.ts";
import { queueStatus } from "./status.ts";

const Latency = z.object({
  sum: z.number().openapi({ description: "ms, summed since start" }),
  count: z.number().int(),
});

const InstanceOverview = z.object({
  id: z.string(),
  name: z.string(),
  baseUrl: z.string(),
  adapter: z.string(),
  status: z.enum(["active", "draining", "disabled"]),
  health: z.enum(["up", "down", "unknown"]),
  healthReason: z.string(),
  breaker: z.enum(["closed", "open", "half-open"]).nullable(),
  ejected: z.boolean(),
  available: z.boolean(),
  active: z.number().int(),
  requests: z.number().int(),
  failures: z.number().int(),
  latency: Latency.openapi({ description: "Time to the backend's response headers" }),
  lastError: z.object({ message: z.string(), at: z.string() }).nullable(),
});

/** The answer of `GET /status.json`. */
export const StatusOverviewSchema = z.object({
  version: z.string(),
  configVersion: z.number().int(),
  startedAt: z.string(),
  now: z.string(),
  totals: z.object({
    requests: z.number().int(),
    errors: z.number().int().openapi({ description: "Answered with a status of 500 or more" }),
    active: z.number().int(),
  }),
  services: z.array(z.object({
    type: z.string(),
    endpoint: z.string(),
    strategy: z.string(),
    derivedFrom: z.string().nullable().openapi({
      description: "Set when this service is served by another's instances, listed there",
    }),
    requests: z.number().int(),
    errors: z.number().int(),
    latency: Latency.openapi({ description: "Full request durations" }),
    queues: z.array(z.object({ model: z.string(), waiting: z.number().int(), size: z.number() })),
    instances: z.array(InstanceOverview),
  })),
  sharedLimits: z.object({
    store: z.enum(["deno-kv", "redis"]),
    interval: z.number().int().openapi({ description: "ms between syncs" }),
    failing: z.boolean().openapi({
      description: "The last sync failed: each limit counts this gateway's requests alone",
    }),
    lastSync: z.string().nullable(),
    syncs: z.number().int().openapi({ description: "Syncs that succeeded since start" }),
    failures: z.number().int().openapi({ description: "Syncs that failed since start" }),
    error: z.string().nullable(),
  }).nullable().openapi({
    description: "How the rate and token limits sync their counts with the other gateways " +
      "sharing the store; null when each limit is this gateway's own",
  }),
  recentErrors: z.array(z.object({
    at: z.string(),
    requestId: z.string(),
    service: z.string(),
    model: z.string(),
    status: z.number().int(),
    reason: z.string(),
    message: z.string(),
    outcome: z.string(),
    instance: z.string().nullable(),
  })).openapi({ description: "The latest requests answered 429 or 5xx, newest first" }),
}).openapi("StatusOverview");

const NO_TRAFFIC = { requests: 0, errors: 0, latencySum: 0, latencyCount: 0 } as const;

/** What the overview reads. */
export interface OverviewSources {
  readonly registry: Registry;
  readonly telemetry: Telemetry;
  readonly version: string;
  readonly configVersion: () => number;
  readonly startedAt: Date;
  readonly now: () => number;
  /** How the limits' sync stands; undefined when limits are not shared. */
  readonly sharedLimits?: () => SyncStatus | undefined;
}

/** The overview at clock time `now`. */
export function statusOverview(sources: OverviewSources): z.infer<typeof StatusOverviewSchema> {
  const { registry, telemetry } = sources;
  const now = sources.now();
  const snapshot = registry.snapshot;
  let requests = 0;
  let errors = 0;
  const services = [];
  for (const type of SERVICE_TYPES) {
    const service = snapshot.services[type];
    const traffic = telemetry.traffic.get(type) ?? NO_TRAFFIC;
    requests += traffic.requests;
    errors += traffic.errors;
    services.push({
      type,
      endpoint: SERVICE_ENDPOINTS[type].path,
      strategy: service.loadBalance.type,
      derivedFrom: service.derivedFrom ?? null,
      requests: traffic.requests,
      errors: traffic.errors,
      latency: { sum: traffic.latencySum, count: traffic.latencyCount },
      queues: queueStatus(service),
      instances: service.upstreams.map((upstream) => {
        const { state, backend } = upstream;
        return {
          id: upstream.id,
          name: upstream.name,
          baseUrl: upstream.baseUrl,
          adapter: upstream.adapter,
          status: upstream.status,
          health: backend.health.status,
          healthReason: backend.health.reason,
          breaker: upstream.breaker?.status(now) ?? null,
          ejected: isEjected(state, backend.health, now),
          available: upstream.status === "active" && isAvailable(upstream, now),
          active: state.active,
          requests: state.requests,
          failures: state.failures,
          latency: { sum: state.latencySum, count: state.latencyCount },
          lastError: state.lastError,
        };
      }),
    });
  }
  return {
    version: sources.version,
    configVersion: sources.configVersion(),
    startedAt: sources.startedAt.toISOString(),
    now: new Date(now).toISOString(),
    totals: { requests, errors, active: telemetry.active },
    services,
    sharedLimits: sharedLimitsOverview(sources.sharedLimits?.()),
    recentErrors: telemetry.recentErrors.list(),
  };
}

/** Mounts `GET /status.json`. */
export function mountStatusOverview(app: GatewayApp, sources: OverviewSources): void {
  app.openapi(
    createRoute({
      method: "get",
      path: "/status.json",
      tags: ["Status"],
      summary: "Every service and instance at a glance, as the status page shows them",
      responses: {
        200: {
          description: "Health, breakers, live counters and the latest failed requests",
          content: { "application/json": { schema: StatusOverviewSchema } },
        },
      },
    }),
    (c) => c.json(statusOverview(sources), 200, { "cache-control": "no-store" }),
  );
}

function sharedLimitsOverview(
  sync: SyncStatus | undefined,
): z.infer<typeof StatusOverviewSchema>["sharedLimits"] {
  if (sync === undefined) return null;
  return {
    store: sync.store,
    interval: sync.interval,
    failing: sync.failing,
    lastSync: sync.lastSyncAt === undefined ? null : new Date(sync.lastSyncAt).toISOString(),
    syncs: sync.syncs,
    failures: sync.failures,
    error: sync.error ?? null,
  };
}

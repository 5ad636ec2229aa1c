/**
 * AiRouter's statistics endpoints, on its paths: counters, success rates and latency
 * percentiles per model, instance and provider; how each pool spreads its requests; the health
 * of a model and of every provider; and the commands to probe again now, to zero the counters
 * and to read the model lists again. They show the gateway's internals and change its state, so
 * they take the admin API's access: an admin key, or loopback while none is configured.
 * @module
 */
import { z } from "@hono/zod-openapi";
import { ADMIN_ERRORS, callerOf, jsonContent } from "../admin/admin_api.ts";
import { type AdminAccess, adminGuard } from "../admin/admin_guard.ts";
import { roleGuard } from "../admin/roles.ts";
import type { AuditLog } from "../admin/audit.ts";
import type { LiveAction } from "../admin/live_actions.ts";
import { GatewayError } from "../errors.ts";
import type { GatewayApp } from "../gateway_env.ts";
import type { BackendMonitor } from "../health/monitor.ts";
import type { Telemetry } from "../observe/telemetry.ts";
import type { Registry } from "../registry/registry.ts";
import {
  loadBalancingView,
  modelHealthView,
  providerHealthView,
  providersView,
  type StatsSources,
  statsView,
} from "../stats/views.ts";
import { ErrorSchema } from "./schemas.ts";
import {
  ClearCacheSchema,
  LoadBalancingStatsSchema,
  ModelHealthSchema,
  ProvidersHealthSchema,
  ProvidersStatsSchema,
  RefreshSchema,
  ResetSchema,
  StatsSchema,
} from "./stats_schemas.ts";

/** What the statistics endpoints read and act on. */
export interface StatsDeps {
  readonly registry: Registry;
  readonly telemetry: Telemetry;
  readonly monitor: BackendMonitor;
  readonly access: AdminAccess;
  readonly audit: AuditLog;
  /** Clock, in ms. */
  readonly now: () => number;
  /** Takes an action on live state in every other worker; resolves once all have. */
  readonly othersToo: (action: LiveAction) => Promise<void>;
}

/** The statistics paths, in Hono's syntax. */
const PATHS = {
  stats: "/v1/stats",
  providers: "/v1/providers/stats/overview",
  loadBalancing: "/v1/load-balancing/statistics",
  modelHealth: "/v1/health/models/:model",
  providerHealth: "/v1/health/providers",
  refresh: "/v1/stats/refresh",
  reset: "/v1/stats/reset",
  clearCache: "/v1/models/clear-cache",
} as const;

/** The statistics endpoints that act rather than read: `POST`s under `/v1` that take an admin key. */
export const STATISTICS_ACTIONS: ReadonlySet<string> = new Set([
  PATHS.refresh,
  PATHS.reset,
  PATHS.clearCache,
]);

/**
 * Mounts the statistics endpoints, each behind the admin guard. Mount them before the client
 * API's authentication on `/v1/*`: a route that answers ends the request there, so an admin
 * needs no client key besides.
 */
export function mountStatsRoutes(app: GatewayApp, deps: StatsDeps): void {
  const guard = adminGuard(deps.access);
  const roles = roleGuard();
  for (const path of Object.values(PATHS)) {
    app.use(path, guard);
    app.use(path, roles);
  }
  const registry = app.openAPIRegistry;
  const tags = ["Statistics"];
  // They take the admin key, not the client key the document declares for other /v1 routes.
  const security = [{ adminKey: [] }];
  const sources = (): StatsSources => ({
    snapshot: deps.registry.snapshot,
    statistics: deps.telemetry.statistics,
    inFlight: deps.telemetry.active,
    now: deps.now(),
  });
  const noStore = { "cache-control": "no-store" };

  registry.registerPath({
    method: "get",
    path: PATHS.stats,
    tags,
    security,
    summary: "Requests, success rates and latency percentiles per model and per instance",
    responses: {
      200: { description: "Since start or the last reset", content: jsonContent(StatsSchema) },
      ...ADMIN_ERRORS,
    },
  });
  app.get(PATHS.stats, (c) => c.json(statsView(sources()), 200, noStore));

  registry.registerPath({
    method: "get",
    path: PATHS.providers,
    tags,
    security,
    summary: "Every provider (backend server) with its health, load and its instances' counters",
    responses: {
      200: { description: "By provider", content: jsonContent(ProvidersStatsSchema) },
      ...ADMIN_ERRORS,
    },
  });
  app.get(PATHS.providers, (c) => c.json(providersView(sources()), 200, noStore));

  registry.registerPath({
    method: "get",
    path: PATHS.loadBalancing,
    tags,
    security,
    summary: "How each pool's strategy spread its requests, and the signals it reads",
    responses: {
      200: { description: "By service and model", content: jsonContent(LoadBalancingStatsSchema) },
      ...ADMIN_ERRORS,
    },
  });
  app.get(PATHS.loadBalancing, (c) => c.json(loadBalancingView(sources()), 200, noStore));

  registry.registerPath({
    method: "get",
    path: "/v1/health/models/{model}",
    tags,
    security,
    summary: "Whether a model's instances can take requests",
    request: {
      params: z.object({ model: z.string().openapi({ description: "Model name, URL-encoded" }) }),
    },
    responses: {
      200: { description: "The model's instances", content: jsonContent(ModelHealthSchema) },
      404: { description: "No instance serves the model", content: jsonContent(ErrorSchema) },
      ...ADMIN_ERRORS,
    },
  });
  app.get(PATHS.modelHealth, (c) => {
    const model = c.req.param("model");
    const view = modelHealthView(deps.registry.snapshot, model, deps.now());
    if (!view) {
      throw new GatewayError(404, "model_not_found", `No instance serves the model "${model}"`, {
        param: "model",
      });
    }
    return c.json(view, 200, noStore);
  });

  registry.registerPath({
    method: "get",
    path: PATHS.providerHealth,
    tags,
    security,
    summary: "Every provider's health, as the active probes found it",
    responses: {
      200: { description: "By provider", content: jsonContent(ProvidersHealthSchema) },
      ...ADMIN_ERRORS,
    },
  });
  app.get(
    PATHS.providerHealth,
    (c) => c.json(providerHealthView(deps.registry.snapshot, deps.now()), 200, noStore),
  );

  registry.registerPath({
    method: "post",
    path: PATHS.refresh,
    tags,
    security,
    summary: "Probe every provider's health and read its load now",
    responses: {
      200: { description: "Once every probe and read ended", content: jsonContent(RefreshSchema) },
      ...ADMIN_ERRORS,
    },
  });
  app.post(PATHS.refresh, async (c) => {
    const [made] = await Promise.all([
      deps.monitor.refresh(["health", "load"]),
      deps.othersToo({ kind: "refresh", what: ["health", "load"] }),
    ]);
    return c.json({
      object: "stats.refresh",
      health_probes: made.health,
      load_reads: made.load,
      health: providerHealthView(deps.registry.snapshot, deps.now()),
    }, 200);
  });

  registry.registerPath({
    method: "post",
    path: PATHS.reset,
    tags,
    security,
    summary: "Zero every counter, percentile and measured average of the statistics",
    responses: {
      200: { description: "Reset", content: jsonContent(ResetSchema) },
      ...ADMIN_ERRORS,
    },
  });
  app.post(PATHS.reset, async (c) => {
    const now = deps.now();
    deps.telemetry.statistics.reset(deps.registry.snapshot, now);
    await deps.othersToo({ kind: "reset-statistics", at: now });
    await deps.audit.record(
      deps.audit.entry({ ...callerOf(c), action: "reset statistics", target: "all" }),
    );
    return c.json({ object: "stats.reset", since: new Date(now).toISOString() }, 200);
  });

  registry.registerPath({
    method: "post",
    path: PATHS.clearCache,
    tags,
    security,
    summary: "Read the model lists of backends that discover models again now",
    responses: {
      200: { description: "Once every list was read", content: jsonContent(ClearCacheSchema) },
      ...ADMIN_ERRORS,
    },
  });
  app.post(PATHS.clearCache, async (c) => {
    const [made] = await Promise.all([
      deps.monitor.refresh(["models"]),
      deps.othersToo({ kind: "refresh", what: ["models"] }),
    ]);
    return c.json({
      object: "models.clear_cache",
      model_lists_read: made.models,
      models: deps.registry.snapshot.models.map((model) => model.id),
    }, 200);
  });
}

/**
 * What the statistics endpoints answer, built from the current snapshot and the counters behind
 * it when a client asks: per model, per instance, per provider (a backend server: an adapter at
 * a base URL), per load-balanced pool, and the health of models and providers. Field names are
 * snake_case, as in the rest of the client API.
 * @module
 */
import { isAvailable } from "../registry/availability.ts";
import { isEjected } from "../health/outlier.ts";
import type { BackendState, HealthStatus, LoadState } from "../health/backend_state.ts";
import type { ServiceRuntime, Snapshot, Upstream } from "../registry/snapshot.ts";
import { SERVICE_TYPES, type ServiceType } from "../services.ts";
import { LatencyHistogram } from "./latency_histogram.ts";
import type { RequestStatistics } from "./request_statistics.ts";
import type { TrafficStats } from "./traffic_stats.ts";

/** What the views read. */
export interface StatsSources {
  readonly snapshot: Snapshot;
  readonly statistics: RequestStatistics;
  /** Client requests in flight. */
  readonly inFlight: number;
  /** Clock time, ms. */
  readonly now: number;
}

/** p50, p90 and p99 of a latency distribution, in ms. */
export interface LatencySummary {
  readonly samples: number;
  readonly p50: number | null;
  readonly p90: number | null;
  readonly p99: number | null;
}

/** The counts every level of the statistics shows. */
export interface CountsView {
  readonly requests: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly success_rate: number | null;
  readonly time_to_first_token_ms: LatencySummary;
  readonly duration_ms: LatencySummary;
}

/** The decaying averages the performance-aware strategies read. */
export interface RecentView {
  readonly time_to_first_token_ms: number | null;
  readonly time_per_output_token_ms: number | null;
  readonly success_rate: number | null;
  readonly samples: number;
}

/** One instance, in `GET /v1/stats`. */
export interface InstanceView extends CountsView {
  readonly id: string;
  readonly model: string;
  readonly services: readonly ServiceType[];
  readonly provider: string;
  readonly base_url: string;
  readonly adapter: string;
  readonly status: string;
  readonly health: HealthStatus;
  readonly breaker: string | null;
  readonly available: boolean;
  readonly in_flight: number;
  readonly max_concurrency: number | null;
  readonly recent: RecentView;
  readonly cost_usd: number;
}

/** One model, in `GET /v1/stats`. */
export interface ModelView extends CountsView {
  readonly model: string;
  readonly services: readonly ServiceType[];
  readonly instances: number;
  readonly available_instances: number;
  readonly in_flight: number;
  readonly queued: number;
}

/** An instance with the services it serves, each instance once. */
interface Placed {
  readonly upstream: Upstream;
  readonly services: ServiceType[];
}

/** Every instance of the snapshot once (derived services share their source's), in order. */
function instancesOf(snapshot: Snapshot): Placed[] {
  const byId = new Map<string, Placed>();
  for (const type of SERVICE_TYPES) {
    for (const upstream of snapshot.services[type].upstreams) {
      const placed = byId.get(upstream.id);
      if (!placed) byId.set(upstream.id, { upstream, services: [type] });
      else if (!placed.services.includes(type)) placed.services.push(type);
    }
  }
  return [...byId.values()];
}

/** `GET /v1/stats`: totals, every model and every instance. */
export function statsView(sources: StatsSources) {
  const { snapshot, now } = sources;
  const instances = instancesOf(snapshot).map((placed) => instanceView(placed, now));
  const models = modelsOf(snapshot).map(({ name, services, pools }) => {
    const upstreams = uniqueUpstreams(pools.flatMap((pool) => pool.upstreams));
    const stats = sources.statistics.model(name);
    return {
      model: name,
      services,
      instances: upstreams.length,
      available_instances: upstreams.filter((upstream) => inRotation(upstream, now)).length,
      in_flight: sum(upstreams.map((upstream) => upstream.state.active)),
      queued: sum(pools.map((pool) => pool.queue?.length ?? 0)),
      ...countsView(stats),
    } satisfies ModelView;
  });
  const requests = sum(models.map((model) => model.requests));
  const succeeded = sum(models.map((model) => model.succeeded));
  const failed = sum(models.map((model) => model.failed));
  return {
    object: "stats" as const,
    since: new Date(sources.statistics.since).toISOString(),
    now: new Date(now).toISOString(),
    totals: {
      requests,
      succeeded,
      failed,
      success_rate: rate(succeeded, failed),
      in_flight: sources.inFlight,
      queued: sum(models.map((model) => model.queued)),
      cost_usd: cost(sum(instances.map((instance) => instance.cost_usd))),
    },
    models,
    instances,
  };
}

/** `GET /v1/providers/stats/overview`: every backend server with its instances' counters. */
export function providersView(sources: StatsSources) {
  const { now } = sources;
  return {
    object: "providers.stats" as const,
    since: new Date(sources.statistics.since).toISOString(),
    now: new Date(now).toISOString(),
    providers: providersOf(sources.snapshot).map(({ backend, upstreams }) => {
      const stats = upstreams.map((upstream) => upstream.state.stats);
      const succeeded = sum(stats.map((one) => one.succeeded));
      const failed = sum(stats.map((one) => one.failed));
      const first = upstreams[0]!;
      return {
        provider: backend.key,
        base_url: first.baseUrl,
        adapter: first.adapter,
        health: healthView(backend),
        instances: upstreams.map((upstream) => upstream.id),
        available_instances: upstreams.filter((upstream) => inRotation(upstream, now)).length,
        in_flight: sum(upstreams.map((upstream) => upstream.state.active)),
        requests: sum(stats.map((one) => one.requests)),
        succeeded,
        failed,
        success_rate: rate(succeeded, failed),
        time_to_first_token_ms: summary(
          LatencyHistogram.merged(stats.map((one) => one.firstToken)),
        ),
        duration_ms: summary(LatencyHistogram.merged(stats.map((one) => one.duration))),
        models: backend.models ? [...backend.models] : null,
        load: backend.load ? loadView(backend.load) : null,
        cost_usd: cost(sum(upstreams.map(spentSinceReset))),
      };
    }),
  };
}

/** `GET /v1/load-balancing/statistics`: per service and pool, how requests spread. */
export function loadBalancingView(sources: StatsSources) {
  const { now } = sources;
  return {
    object: "load_balancing.statistics" as const,
    since: new Date(sources.statistics.since).toISOString(),
    now: new Date(now).toISOString(),
    services: SERVICE_TYPES.map((type) => sources.snapshot.services[type])
      .filter((service) => service.pools().length > 0)
      .map((service) => ({
        service: service.type,
        strategy: service.loadBalance.type,
        derived_from: service.derivedFrom ?? null,
        pools: service.pools().map((pool) => {
          const total = sum(pool.upstreams.map((upstream) => upstream.state.stats.requests));
          return {
            model: pool.name,
            queue: pool.queue ? { waiting: pool.queue.length, size: pool.queue.size } : null,
            instances: pool.upstreams.map((upstream) => ({
              id: upstream.id,
              weight: upstream.weight,
              requests: upstream.state.stats.requests,
              share: total === 0 ? null : round(upstream.state.stats.requests / total, 4),
              in_flight: upstream.state.active,
              max_concurrency: upstream.maxConcurrency === Infinity
                ? null
                : upstream.maxConcurrency,
              available: inRotation(upstream, now),
              recent: recentView(upstream),
              load: upstream.backend.load ? loadView(upstream.backend.load) : null,
            })),
          };
        }),
      })),
  };
}

/** `GET /v1/health/providers`: each backend server's health from the active probes. */
export function providerHealthView(snapshot: Snapshot, now: number) {
  const providers = providersOf(snapshot).map(({ backend, upstreams }) => ({
    provider: backend.key,
    base_url: upstreams[0]!.baseUrl,
    adapter: upstreams[0]!.adapter,
    ...healthView(backend),
    last_ok_at: backend.health.lastOkAt === 0
      ? null
      : new Date(backend.health.lastOkAt).toISOString(),
    instances: upstreams.length,
    available_instances: upstreams.filter((upstream) => inRotation(upstream, now)).length,
  }));
  const down = providers.filter((provider) => provider.status === "down").length;
  return {
    status: overall(providers.length - down, providers.length),
    now: new Date(now).toISOString(),
    providers,
  };
}

/** `GET /v1/health/models/{model}`: the instances serving `model`; undefined when none is. */
export function modelHealthView(snapshot: Snapshot, model: string, now: number) {
  const services: ServiceType[] = [];
  const found: Upstream[] = [];
  for (const type of SERVICE_TYPES) {
    const pool = snapshot.services[type].resolve(model);
    if (!pool) continue;
    services.push(type);
    found.push(...pool.upstreams);
  }
  if (services.length === 0) return undefined;
  const instances = uniqueUpstreams(found).map((upstream) => {
    const { state, backend } = upstream;
    return {
      id: upstream.id,
      provider: backend.key,
      health: backend.health.status,
      breaker: upstream.breaker?.status(now) ?? null,
      ejected: isEjected(state, backend.health, now),
      available: inRotation(upstream, now),
      in_flight: state.active,
      success_rate: round(state.stats.successRate, 4),
    };
  });
  const available = instances.filter((instance) => instance.available).length;
  return {
    model,
    status: overall(available, instances.length),
    services,
    instances: instances.length,
    available_instances: available,
    details: instances,
  };
}

/** Whether selection may pick `upstream` now: it is active and available. */
function inRotation(upstream: Upstream, now: number): boolean {
  return upstream.status === "active" && isAvailable(upstream, now);
}

/** All good, some, or none: `healthy`, `degraded`, `unhealthy`. */
function overall(good: number, all: number): "healthy" | "degraded" | "unhealthy" {
  if (good === all) return all === 0 ? "unhealthy" : "healthy";
  return good === 0 ? "unhealthy" : "degraded";
}

function instanceView({ upstream, services }: Placed, now: number): InstanceView {
  const { state, backend } = upstream;
  return {
    id: upstream.id,
    model: upstream.name,
    services,
    provider: backend.key,
    base_url: upstream.baseUrl,
    adapter: upstream.adapter,
    status: upstream.status,
    health: backend.health.status,
    breaker: upstream.breaker?.status(now) ?? null,
    available: inRotation(upstream, now),
    in_flight: state.active,
    max_concurrency: upstream.maxConcurrency === Infinity ? null : upstream.maxConcurrency,
    ...countsView(state.stats),
    recent: recentView(upstream),
    cost_usd: cost(spentSinceReset(upstream)),
  };
}

function countsView(stats: TrafficStats | undefined): CountsView {
  return {
    requests: stats?.requests ?? 0,
    succeeded: stats?.succeeded ?? 0,
    failed: stats?.failed ?? 0,
    success_rate: round(stats?.successRate ?? null, 4),
    time_to_first_token_ms: summary(stats?.firstToken),
    duration_ms: summary(stats?.duration),
  };
}

function recentView(upstream: Upstream): RecentView {
  const performance = upstream.state.performance;
  return {
    time_to_first_token_ms: round(performance.firstToken.value ?? null, 1),
    time_per_output_token_ms: round(performance.perToken.value ?? null, 2),
    success_rate: round(performance.success.value ?? null, 4),
    samples: performance.samples,
  };
}

function summary(histogram: LatencyHistogram | undefined): LatencySummary {
  if (!histogram) return { samples: 0, p50: null, p90: null, p99: null };
  return {
    samples: histogram.count,
    p50: round(histogram.percentile(0.5), 1),
    p90: round(histogram.percentile(0.9), 1),
    p99: round(histogram.percentile(0.99), 1),
  };
}

function healthView(backend: BackendState) {
  const { status, reason, changedAt, lastFailure } = backend.health;
  return { status, reason, changed_at: changedAt, last_failure: lastFailure };
}

function loadView({ reading, at }: LoadState) {
  return {
    running: reading.running ?? null,
    waiting: reading.waiting ?? null,
    kv_cache_usage: reading.kvCacheUsage ?? null,
    loaded_models: reading.loadedModels ? [...reading.loadedModels] : null,
    read_at: at,
  };
}

/** Every model name with its pools, across services, in service order. */
function modelsOf(snapshot: Snapshot) {
  const byName = new Map<
    string,
    { name: string; services: ServiceType[]; pools: ReturnType<ServiceRuntime["pools"]>[number][] }
  >();
  for (const type of SERVICE_TYPES) {
    for (const pool of snapshot.services[type].pools()) {
      const entry = byName.get(pool.name);
      if (!entry) byName.set(pool.name, { name: pool.name, services: [type], pools: [pool] });
      else {
        entry.services.push(type);
        entry.pools.push(pool);
      }
    }
  }
  return [...byName.values()];
}

/** Every backend server with its instances, each instance once. */
function providersOf(snapshot: Snapshot) {
  const byKey = new Map<string, { backend: BackendState; upstreams: Upstream[] }>();
  for (const { upstream } of instancesOf(snapshot)) {
    const entry = byKey.get(upstream.backend.key);
    if (entry) entry.upstreams.push(upstream);
    else byKey.set(upstream.backend.key, { backend: upstream.backend, upstreams: [upstream] });
  }
  return [...byKey.values()];
}

function uniqueUpstreams(upstreams: readonly Upstream[]): Upstream[] {
  const byId = new Map<string, Upstream>();
  for (const upstream of upstreams) if (!byId.has(upstream.id)) byId.set(upstream.id, upstream);
  return [...byId.values()];
}

function spentSinceReset(upstream: Upstream): number {
  return upstream.state.spend - upstream.state.stats.spentBefore;
}

function rate(succeeded: number, failed: number): number | null {
  return round(succeeded + failed === 0 ? null : succeeded / (succeeded + failed), 4);
}

function sum(values: readonly number[]): number {
  let total = 0;
  for (const value of values) total += value;
  return total;
}

/** USD to a millionth of a cent. */
function cost(usd: number): number {
  return Math.round(usd * 1e8) / 1e8;
}

function round(value: number | null, digits: number): number | null {
  if (value === null) return null;
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

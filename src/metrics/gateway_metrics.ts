/**
 * Every metric the gateway exports at `/metrics`, named under `switchyard_` after JAiRouter's
 * `jairouter_` metrics so that dashboards translate. Counters and histograms are recorded as
 * requests go; gauges of live state (health, breakers, active requests, queues) are read from
 * the registry's snapshot at each scrape.
 *
 * Label values are bounded by the config: services, configured model names (or `_unknown`
 * for a name no pool serves, `_none` before a model was read), instance ids, strategies and
 * status codes; never a client address, a key or a request id.
 * @module
 */
import type { BreakerStatus } from "../breaker/breaker.ts";
import type { HealthStatus } from "../health/backend_state.ts";
import type { SyncStatus } from "../limiter/shared_counts.ts";
import type { Snapshot } from "../registry/snapshot.ts";
import { SERVICE_TYPES, type ServiceType } from "../services.ts";
import type { MergeRule } from "./merged_exposition.ts";
import { MetricsRegistry } from "./registry.ts";
import { registerProcessMetrics } from "./process_metrics.ts";
import { InstanceSeries, ModelSeries } from "./request_series.ts";

/** The model label of a request whose body named no model the gateway could read. */
export const NO_MODEL = "_none";
/** The model label of a request for a model no pool serves. */
export const UNKNOWN_MODEL = "_unknown";

/**
 * How each metric of several workers of one process is merged into one scrape; every other
 * metric is summed. The process's own readings are the same in each worker; each worker probes
 * and breaks circuits on its own, so its health and breaker states are shown per worker.
 */
const MERGE_RULES: Readonly<Record<string, MergeRule>> = {
  process_resident_memory_bytes: "same",
  process_cpu_seconds_total: "same",
  process_start_time_seconds: "min",
  switchyard_build_info: "same",
  switchyard_config_version: "max",
  switchyard_backend_health: "per-worker",
  switchyard_circuit_breaker_state: "per-worker",
  // Each worker syncs its own limits' counts: a worker whose sync fails shows as its own.
  switchyard_limits_sync_failing: "per-worker",
};

/** How the metric `name` of several workers is merged: see {@link MERGE_RULES}. */
export function mergeRuleOf(name: string): MergeRule {
  return MERGE_RULES[name] ?? "sum";
}

/** Seconds, from a millisecond to two minutes: request and backend durations. */
const DURATION_BUCKETS = [
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
  30,
  60,
  120,
];
/** Seconds between tokens of a stream: generation speeds from 1000 down to 1 token/s. */
const TOKEN_GAP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.02, 0.035, 0.05, 0.075, 0.1, 0.25, 0.5, 1];
/** Bytes, from 64 B to 64 MiB by factors of 4. */
const SIZE_BUCKETS = [
  64,
  256,
  1024,
  4096,
  16384,
  65536,
  262144,
  1048576,
  4194304,
  16777216,
  67108864,
];

/**
 * The most bundles of series kept per service, of models and of instances each; past it the
 * cache starts over. Its keys come from the config, so this is only reached by a config that
 * changed names many times.
 */
const MAX_BUNDLES = 4096;

/** A breaker state as the `switchyard_circuit_breaker_state` gauge reads it. */
const BREAKER_VALUES: Readonly<Record<BreakerStatus, number>> = {
  closed: 0,
  open: 1,
  "half-open": 2,
};
/** A backend's health as the `switchyard_backend_health` gauge reads it. */
const HEALTH_VALUES: Readonly<Record<HealthStatus, number>> = { down: 0, up: 1, unknown: 2 };

/** The gateway's metrics, and the registry that renders them. */
export class GatewayMetrics {
  readonly registry: MetricsRegistry;

  readonly requests;
  readonly requestDuration;
  readonly requestSize;
  readonly responseSize;
  readonly retries;
  readonly fallbacks;
  readonly backendCalls;
  readonly backendCallDuration;
  readonly rateLimitEvents;
  readonly breakerTransitions;
  readonly selections;
  readonly timeToFirstToken;
  readonly interTokenLatency;
  readonly tokens;
  readonly cost;
  readonly queueWait;
  readonly turnWaits;
  readonly #breakerState;
  readonly #backendHealth;
  readonly #activeRequests;
  readonly #queueLength;
  readonly #configVersion;
  readonly #syncFailing;
  readonly #syncFailures;
  readonly #waitingForTurn;
  readonly #now: () => number;
  readonly #models = new Map<ServiceType, Map<string, ModelSeries>>();
  readonly #instances = new Map<ServiceType, Map<string, InstanceSeries>>();

  constructor(options: { readonly version: string; readonly now?: () => number }) {
    const registry = this.registry = new MetricsRegistry();
    registerProcessMetrics(registry);
    this.#now = options.now ?? Date.now;
    registry.gauge("switchyard_build_info", "The running version; always 1", ["version"])
      .labels({ version: options.version }).set(1);
    this.#configVersion = registry.gauge(
      "switchyard_config_version",
      "The version of the config being served",
      [],
    ).labels({});
    this.#syncFailing = registry.gauge(
      "switchyard_limits_sync_failing",
      "1 while the limits' counts cannot be synced with the store other gateways share " +
        "(each limit then counts this gateway's requests alone), else 0",
      [],
    ).labels({});
    this.#syncFailures = registry.gauge(
      "switchyard_limits_sync_failures",
      "Syncs of the limits' counts with the shared store that failed since start",
      [],
    ).labels({});
    this.turnWaits = registry.counter(
      "switchyard_turn_waits_total",
      "New requests that waited for a turn of the event loop, because its turn was already " +
        "spent on others that arrived with them",
      [],
    ).labels({});
    this.#waitingForTurn = registry.gauge(
      "switchyard_turn_waiting",
      "New requests waiting for a turn of the event loop now",
      [],
    ).labels({});
    this.requests = registry.counter(
      "switchyard_requests_total",
      "Client requests to the /v1 services, by the status the client got",
      ["service", "model", "status"],
    );
    this.requestDuration = registry.histogram(
      "switchyard_request_duration_seconds",
      "Time from a request's arrival to the last byte of its response",
      ["service", "model", "status"],
      DURATION_BUCKETS,
    );
    this.requestSize = registry.histogram(
      "switchyard_request_size_bytes",
      "Size of request bodies as clients sent them",
      ["service", "model"],
      SIZE_BUCKETS,
    );
    this.responseSize = registry.histogram(
      "switchyard_response_size_bytes",
      "Size of response bodies as clients got them",
      ["service", "model"],
      SIZE_BUCKETS,
    );
    this.retries = registry.counter(
      "switchyard_retries_total",
      "Attempts beyond the first, after a failure before the first byte",
      ["service", "model"],
    );
    this.fallbacks = registry.counter(
      "switchyard_fallbacks_total",
      "Requests answered by a fallback, by what answered: the cache or a fallback model",
      ["service", "model", "fallback"],
    );
    this.backendCalls = registry.counter(
      "switchyard_backend_calls_total",
      "Requests sent to backend instances, by the instance's HTTP status or why there was none",
      ["service", "instance", "status"],
    );
    this.backendCallDuration = registry.histogram(
      "switchyard_backend_call_duration_seconds",
      "Time from sending a request to a backend until its response headers arrived",
      ["service", "instance"],
      DURATION_BUCKETS,
    );
    this.rateLimitEvents = registry.counter(
      "switchyard_rate_limit_events_total",
      "Rate limit decisions, by the limit's scope and what it decided",
      ["service", "scope", "result"],
    );
    this.#breakerState = registry.gauge(
      "switchyard_circuit_breaker_state",
      "Circuit breaker state of each instance: 0 closed, 1 open, 2 half-open",
      ["service", "instance"],
    );
    this.breakerTransitions = registry.counter(
      "switchyard_circuit_breaker_transitions_total",
      "Circuit breaker state changes",
      ["instance", "from", "to"],
    );
    this.selections = registry.counter(
      "switchyard_loadbalancer_selections_total",
      "Instances picked by the load balancer, one per attempt",
      ["service", "strategy", "instance"],
    );
    this.#backendHealth = registry.gauge(
      "switchyard_backend_health",
      "Health of each instance's backend from active probes: 0 down, 1 up, 2 not probed yet",
      ["service", "instance"],
    );
    this.#activeRequests = registry.gauge(
      "switchyard_active_requests",
      "Requests in flight to each instance",
      ["service", "instance"],
    );
    this.timeToFirstToken = registry.histogram(
      "switchyard_time_to_first_token_seconds",
      "Time from a streamed request's arrival to the first event of its stream",
      ["service", "model"],
      DURATION_BUCKETS,
    );
    this.interTokenLatency = registry.histogram(
      "switchyard_inter_token_latency_seconds",
      "Mean time between the events of each streamed SSE response, as the gateway relayed them",
      ["service", "model"],
      TOKEN_GAP_BUCKETS,
    );
    this.tokens = registry.counter(
      "switchyard_tokens_total",
      "Tokens the backends reported in `usage`: input (prompt) and output (completion)",
      ["service", "model", "type"],
    );
    this.cost = registry.counter(
      "switchyard_cost_usd_total",
      "USD the answered requests cost at their instances' prices (instances without a price " +
        "count nothing)",
      ["service", "model"],
    );
    this.#queueLength = registry.gauge(
      "switchyard_queue_length",
      "Requests waiting for a free instance of a model",
      ["service", "model"],
    );
    this.queueWait = registry.histogram(
      "switchyard_queue_wait_seconds",
      "Time requests waited in a model's queue for a free instance",
      ["service", "model"],
      DURATION_BUCKETS,
    );
  }

  /** The series of `model` (a model label) of `service`, kept for the requests that follow. */
  model(service: ServiceType, model: string): ModelSeries {
    const models = bundlesOf(this.#models, service);
    let series = models.get(model);
    if (series === undefined) {
      series = new ModelSeries(this, service, model);
      models.set(model, series);
    }
    return series;
  }

  /** The series of the instance `id` of `service`, kept for the requests that follow. */
  instance(service: ServiceType, id: string): InstanceSeries {
    const instances = bundlesOf(this.#instances, service);
    let series = instances.get(id);
    if (series === undefined) {
      series = new InstanceSeries(this, service, id);
      instances.set(id, series);
    }
    return series;
  }

  /** Reads the live-state gauges at each scrape from the current snapshot and config version. */
  collectFrom(sources: {
    readonly snapshot: () => Snapshot;
    readonly configVersion: () => number;
    /** How the limits' sync stands; undefined when limits are not shared. */
    readonly sharedLimits?: () => SyncStatus | undefined;
    /** How many new requests wait for a turn of the event loop. */
    readonly waitingForTurn: () => number;
  }): void {
    this.registry.onCollect(() => {
      this.#configVersion.set(sources.configVersion());
      this.#waitingForTurn.set(sources.waitingForTurn());
      const sync = sources.sharedLimits?.();
      if (sync) {
        this.#syncFailing.set(sync.failing ? 1 : 0);
        this.#syncFailures.set(sync.failures);
      }
      this.#collectLiveState(sources.snapshot(), this.#now());
    });
  }

  /** Renders every metric in the Prometheus text format. */
  render(): string {
    return this.registry.render();
  }

  #collectLiveState(snapshot: Snapshot, now: number): void {
    this.#breakerState.reset();
    this.#backendHealth.reset();
    this.#activeRequests.reset();
    this.#queueLength.reset();
    for (const type of SERVICE_TYPES) {
      const service = snapshot.services[type];
      for (const upstream of service.upstreams) {
        const labels = { service: type, instance: upstream.id };
        this.#activeRequests.labels(labels).set(upstream.state.active);
        this.#backendHealth.labels(labels).set(HEALTH_VALUES[upstream.backend.health.status]);
        if (upstream.breaker) {
          this.#breakerState.labels(labels).set(BREAKER_VALUES[upstream.breaker.status(now)]);
        }
      }
      for (const pool of service.pools()) {
        if (pool.queue) {
          this.#queueLength.labels({ service: type, model: pool.name }).set(pool.queue.length);
        }
      }
    }
  }
}

/** The bundles of `service`, emptied first when they reached {@link MAX_BUNDLES}. */
function bundlesOf<B>(byService: Map<ServiceType, Map<string, B>>, service: ServiceType) {
  let bundles = byService.get(service);
  if (bundles === undefined) byService.set(service, bundles = new Map());
  else if (bundles.size >= MAX_BUNDLES) bundles.clear();
  return bundles;
}

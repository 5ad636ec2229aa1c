/**
 * Everything live behind a snapshot, by stable identity: instance counters and breakers by
 * instance id, backend health by backend key, limiters by policy, fallback caches by service,
 * waiting lines by model. A snapshot build takes what it needs from here; what the build did
 * not touch is forgotten afterwards, so removed instances, limits and models leave no state.
 * @module
 */
import { type BreakerSettings, type BreakerStatus, CircuitBreaker } from "../breaker/breaker.ts";
import { AdaptiveConcurrency, type ConcurrencyBounds } from "../limiter/adaptive_concurrency.ts";
import { ResponseCache } from "../fallback/response_cache.ts";
import type { FallbackSettings } from "../fallback/settings.ts";
import { type BackendState, newBackendState } from "../health/backend_state.ts";
import type { KeyedLimiters } from "../limiter/keyed_limiters.ts";
import type { KeyedTokenBudgets } from "../limiter/token_budget.ts";
import type { TokenLimitPolicy } from "../limiter/token_limits.ts";
import type { RateLimitPolicy } from "../limiter/policies.ts";
import { RateLimits } from "../limiter/rate_limits.ts";
import { WaitQueue } from "../queue/wait_queue.ts";
import { type InstanceState, newInstanceState } from "./state.ts";

/** Told when an instance's breaker changes state. */
export type BreakerListener = (
  instanceId: string,
  from: BreakerStatus,
  to: BreakerStatus,
  at: number,
) => void;

/** A map whose entries a build must touch to keep. */
class Kept<V> {
  readonly entries = new Map<string, V>();
  #touched = new Set<string>();

  get(key: string, create: (known: V | undefined) => V): V {
    this.#touched.add(key);
    const known = this.entries.get(key);
    const value = create(known);
    if (value !== known) this.entries.set(key, value);
    return value;
  }

  begin(): void {
    this.#touched = new Set();
  }

  end(): void {
    for (const key of this.entries.keys()) if (!this.#touched.has(key)) this.entries.delete(key);
  }
}

/** The live state of a gateway. */
export class LiveState {
  readonly #instances = new Kept<InstanceState>();
  readonly #backends = new Kept<BackendState>();
  readonly #breakers = new Kept<CircuitBreaker>();
  readonly #concurrency = new Kept<AdaptiveConcurrency>();
  readonly #caches = new Kept<{ readonly fingerprint: string; readonly cache: ResponseCache }>();
  readonly #queues = new Kept<WaitQueue>();
  readonly #policies = new Set<string>();
  /** Every limit's limiters. */
  readonly limits = new RateLimits();
  readonly #onBreaker: BreakerListener | undefined;

  constructor(options: { readonly onBreakerTransition?: BreakerListener } = {}) {
    this.#onBreaker = options.onBreakerTransition;
  }

  /** Runs a snapshot build; afterwards, state the build did not ask for is forgotten. */
  build<T>(run: () => T): T {
    const all = [
      this.#instances,
      this.#backends,
      this.#breakers,
      this.#concurrency,
      this.#caches,
      this.#queues,
    ];
    for (const kept of all) kept.begin();
    this.#policies.clear();
    const result = run();
    for (const kept of all) kept.end();
    this.limits.retain(this.#policies);
    return result;
  }

  /** The counters of an instance id. */
  instance(id: string): InstanceState {
    return this.#instances.get(id, (known) => known ?? newInstanceState());
  }

  /** The health, models and load of a backend key. */
  backend(key: string): BackendState {
    return this.#backends.get(key, (known) => known ?? newBackendState(key));
  }

  /** The limiters of a limit. */
  limiters(policy: RateLimitPolicy): KeyedLimiters {
    this.#policies.add(policy.id);
    return this.limits.limitersFor(policy);
  }

  /** The token budgets of a token limit. */
  tokenBudgets(policy: TokenLimitPolicy): KeyedTokenBudgets {
    this.#policies.add(policy.id);
    return this.limits.budgetsFor(policy);
  }

  /** The breaker of an instance id with these settings; none when it has no breaker. */
  breaker(id: string, settings: BreakerSettings | undefined): CircuitBreaker | undefined {
    if (settings === undefined) return undefined;
    return this.#breakers.get(id, (known) => {
      if (known) {
        known.configure(settings);
        return known;
      }
      const onTransition = this.#onBreaker;
      return new CircuitBreaker(settings, {
        ...(onTransition ? { onTransition: (from, to, at) => onTransition(id, from, to, at) } : {}),
      });
    });
  }

  /**
   * The adaptive concurrency limit of an instance id with `max-concurrency: auto`, kept with
   * what it found so far when the bounds change.
   */
  concurrency(id: string, bounds: ConcurrencyBounds): AdaptiveConcurrency {
    return this.#concurrency.get(id, (known) => {
      if (!known) return new AdaptiveConcurrency(bounds);
      known.configure(bounds);
      return known;
    });
  }

  /** A service's answer cache for the `cache` fallback; none for other strategies. */
  cache(service: string, settings: FallbackSettings): ResponseCache | undefined {
    if (settings.strategy !== "cache") return undefined;
    const fingerprint = `${settings.cacheSize}|${settings.cacheTtl}`;
    return this.#caches.get(service, (known) =>
      known?.fingerprint === fingerprint ? known : {
        fingerprint,
        cache: new ResponseCache({ maxEntries: settings.cacheSize, ttl: settings.cacheTtl }),
      }).cache;
  }

  /** The waiting line of a model of a service, holding at most `size` requests. */
  queue(key: string, size: number): WaitQueue {
    return this.#queues.get(key, (known) => {
      if (!known) return new WaitQueue(size);
      known.size = size;
      return known;
    });
  }
}

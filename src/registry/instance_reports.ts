/**
 * How the outcome of a request sent to an instance is kept: its counters, its circuit breaker,
 * and outlier detection. The proxy's lease reports each admitted request once.
 * @module
 */
import { ejectionAllowed, recordFailure, recordSuccess } from "../health/outlier.ts";
import type { Upstream } from "./snapshot.ts";

/** Why a backend failed a request, as its counters, breaker and outlier record keep it. */
export interface BackendFailure {
  readonly reason: string;
  /** It could not be reached or timed out, rather than answering badly. */
  readonly unreachable: boolean;
}

/** The instance answered well: its run of failures ends, and its breaker hears a success. */
export function reportSuccess(upstream: Upstream, now: number): void {
  recordSuccess(upstream.state);
  upstream.state.stats.requests++;
  upstream.state.stats.succeeded++;
  upstream.state.performance.outcome(true, now);
  upstream.breaker?.onSuccess(now);
}

/** The instance failed: counted, kept as its last error, told to its breaker and outlier record. */
export function reportFailure(upstream: Upstream, failure: BackendFailure, now: number): void {
  upstream.state.failures++;
  upstream.state.stats.requests++;
  upstream.state.stats.failed++;
  upstream.state.performance.outcome(false, now);
  upstream.state.lastError = { message: failure.reason, at: new Date(now).toISOString() };
  upstream.breaker?.onFailure(now);
  recordFailure(upstream.state, failure, {
    settings: upstream.outlier,
    health: upstream.backend.health,
    now,
    mayEject: () => ejectionAllowed(upstream.peers, upstream.outlier.maxEjectionPercent, now),
  });
}

/** The request said nothing of the instance: its breaker slot is freed without a verdict. */
export function reportNeutral(upstream: Upstream, now: number): void {
  upstream.state.stats.requests++;
  upstream.breaker?.onNeutral(now);
}

import { InstancePerformance } from "../balancer/performance.ts";
import { InstanceStats } from "../stats/traffic_stats.ts";

/** The most recent failure of an instance. */
export interface LastError {
  readonly message: string;
  /** ISO time of the failure. */
  readonly at: string;
}

/** A time an instance was taken out of rotation for failing real requests. */
export interface Ejection {
  /** Clock times (ms) the ejection started and ends. */
  readonly at: number;
  readonly until: number;
  readonly reason: string;
  /** The failures were unreachability, which a good health probe disproves. */
  readonly unreachable: boolean;
}

/** Live counters of one instance; mutated only by the proxy as requests start and settle. */
export interface InstanceState {
  /** Requests in flight. */
  active: number;
  /** Estimated tokens (prompt and answer) of the requests in flight. */
  activeTokens: number;
  /** Requests sent since start. */
  requests: number;
  /** Requests that failed (transport error, timeout or 5xx) since start. */
  failures: number;
  lastError: LastError | null;
  /** Requests in a row that failed; a success resets it. */
  consecutiveFailures: number;
  /** The latest ejection, kept after it ends for display and to grow the next one. */
  ejection: Ejection | null;
  /** Ejections in the current series; the next one lasts this many times the base time. */
  ejections: number;
  /** Clock time (ms) until which it is skipped, after it answered 429 with `Retry-After`. */
  cooldownUntil: number;
  /** ms from sending to response headers, summed over the requests it answered, and their count. */
  latencySum: number;
  latencyCount: number;
  /** Decaying averages of its time to first token, time per token and success rate. */
  readonly performance: InstancePerformance;
  /** USD spent on it since start. */
  spend: number;
  /** What the statistics endpoints show of it since start or their last reset. */
  readonly stats: InstanceStats;
}

/** A fresh, idle instance state. */
export function newInstanceState(): InstanceState {
  return {
    active: 0,
    activeTokens: 0,
    requests: 0,
    failures: 0,
    lastError: null,
    consecutiveFailures: 0,
    ejection: null,
    ejections: 0,
    cooldownUntil: 0,
    latencySum: 0,
    latencyCount: 0,
    performance: new InstancePerformance(),
    spend: 0,
    stats: new InstanceStats(),
  };
}

/**
 * What the statistics endpoints count of the requests of one model or one instance since start
 * or the last reset: how many, how many succeeded and failed, and the distributions of their
 * time to first token and total duration.
 * @module
 */
import { LatencyHistogram } from "./latency_histogram.ts";

/** Counts and latency distributions of requests since start or the last reset. */
export class TrafficStats {
  /** Requests counted: every client request of a model; every attempt sent to an instance. */
  requests = 0;
  /** Of those, the ones answered well. */
  succeeded = 0;
  /** Of those, the failures: a 5xx, a timeout, an answer cut midway. */
  failed = 0;
  /** ms from arrival to the first token of successful requests. */
  readonly firstToken = new LatencyHistogram();
  /** ms from arrival to the last byte of successful requests. */
  readonly duration = new LatencyHistogram();

  /** Share of the requests judged that succeeded; null before any. */
  get successRate(): number | null {
    const judged = this.succeeded + this.failed;
    return judged === 0 ? null : this.succeeded / judged;
  }

  /** A successful request's latencies. */
  served(firstToken: number | undefined, duration: number): void {
    if (firstToken !== undefined) this.firstToken.add(firstToken);
    this.duration.add(duration);
  }

  /** Back to zero. */
  reset(): void {
    this.requests = 0;
    this.succeeded = 0;
    this.failed = 0;
    this.firstToken.reset();
    this.duration.reset();
  }
}

/** An instance's {@linkcode TrafficStats}, with what it had cost at the last reset. */
export class InstanceStats extends TrafficStats {
  /** The instance's `spend` (USD) when the statistics were last reset. */
  spentBefore = 0;
}

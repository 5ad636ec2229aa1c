/**
 * The statistics endpoints' counters of finished client requests: per model here, per instance
 * on the instance's live state. Each request is counted once, when its record finishes; its
 * latencies go into the model's and the serving instance's histograms when it succeeded.
 * @module
 */
import { NO_MODEL, UNKNOWN_MODEL } from "../metrics/gateway_metrics.ts";
import type { RequestRecord } from "../observe/request_record.ts";
import type { Snapshot } from "../registry/snapshot.ts";
import { TrafficStats } from "./traffic_stats.ts";

/** Models counted at most; the statistics of further ones are not kept. */
const MAX_MODELS = 2000;

/** How a finished request counts. */
export type Verdict = "succeeded" | "failed" | "neither";

/**
 * A request succeeded when it was answered below 400 and delivered whole; it failed when it
 * was answered 500 or more, or its answer was cut (by the backend, a timeout or the shutdown).
 * A refusal (4xx) and a client that left are neither.
 */
export function verdictOf(record: RequestRecord): Verdict {
  if (record.failed) return "failed";
  return record.status < 400 && record.outcome === "complete" ? "succeeded" : "neither";
}

/** Per-model counters of finished requests, and when counting began. */
export class RequestStatistics {
  readonly #models = new Map<string, TrafficStats>();
  /** Clock time (ms) of start or the last reset. */
  since: number;

  constructor(now: number) {
    this.since = now;
  }

  /** Counts a finished request for its model, and its latencies for the instance that served it. */
  finished(record: RequestRecord): void {
    const verdict = verdictOf(record);
    // Until the first token, as the client saw it: a stream's first chunk, else the answer's head.
    const firstToken = record.firstChunk ?? record.firstByte;
    if (verdict === "succeeded") record.instance?.state.stats.served(firstToken, record.duration);
    const model = record.model;
    if (model === NO_MODEL || model === UNKNOWN_MODEL) return;
    let stats = this.#models.get(model);
    if (!stats) {
      if (this.#models.size >= MAX_MODELS) return;
      this.#models.set(model, stats = new TrafficStats());
    }
    stats.requests++;
    if (verdict === "succeeded") {
      stats.succeeded++;
      stats.served(firstToken, record.duration);
    } else if (verdict === "failed") stats.failed++;
  }

  /** A model's counters; none before its first request. */
  model(name: string): TrafficStats | undefined {
    return this.#models.get(name);
  }

  /**
   * Back to zero at clock time `now`: the models' counters, and every instance's counters and
   * measured averages in `snapshot`.
   */
  reset(snapshot: Snapshot, now: number): void {
    this.#models.clear();
    this.since = now;
    for (const service of Object.values(snapshot.services)) {
      for (const upstream of service.upstreams) {
        upstream.state.stats.reset();
        upstream.state.stats.spentBefore = upstream.state.spend;
        upstream.state.performance.reset();
      }
    }
  }
}

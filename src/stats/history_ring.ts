/**
 * The last hour of a stream of client requests, in buckets of ten seconds, for the console's
 * live charts: requests, failures, refusals for a rate limit and output tokens per second, time
 * to first token and inter-token latency (mean, p50, p95), and the queue's length as sampled.
 *
 * Counting a request is a few additions into the current bucket and, for a stream, one sample
 * into each of two latency histograms; the histograms' percentiles are read once, when the
 * bucket closes. Every series is a `Float32Array` of 360 buckets: 12 of them and two histograms
 * come to about 20 KiB a ring.
 * @module
 */
import { LatencyHistogram } from "./latency_histogram.ts";

/** How long a bucket spans, in ms. */
export const BUCKET_MS = 10_000;
const SECONDS = BUCKET_MS / 1000;
/** How many buckets a ring keeps: an hour. */
export const BUCKET_COUNT = 360;

/** What a bucket counts of a request that finished. */
export interface SettledRequest {
  readonly status: number;
  /** Whether it failed: answered 500 or more, or its answer was cut. */
  readonly failed: boolean;
  /** ms from arrival to a stream's first chunk; undefined for an answer not streamed. */
  readonly firstChunk: number | undefined;
  /** ms, the mean gap between a stream's events; undefined for fewer than three events. */
  readonly interTokenLatency: number | undefined;
  /** Tokens generated: as the backend reported them, else a stream's events. */
  readonly outputTokens: number;
}

/** A latency series: mean, p50 and p95 of each bucket, in ms; null where it had no sample. */
export interface LatencySeries {
  readonly mean: (number | null)[];
  readonly p50: (number | null)[];
  readonly p95: (number | null)[];
}

/** The last hour, a value per bucket, oldest first; the last bucket is the current one. */
export interface HistoryWindow {
  /** Clock time (ms) the first bucket starts at. */
  readonly start: number;
  readonly bucketSeconds: number;
  /** How long the current (last) bucket has run, in seconds: its rates are over that. */
  readonly lastBucketSeconds: number;
  readonly requestsPerSecond: number[];
  /** Answered 500 or more, or cut. */
  readonly errorsPerSecond: number[];
  /** Refused with 429. */
  readonly rateLimitedPerSecond: number[];
  readonly outputTokensPerSecond: number[];
  /** Time to a stream's first token. */
  readonly timeToFirstToken: LatencySeries;
  readonly interTokenLatency: LatencySeries;
  /** Requests waiting in the queues, sampled: mean and most, null where none was taken. */
  readonly queueMean: (number | null)[];
  readonly queueMax: (number | null)[];
}

/** The per-bucket sums and the open bucket's samples of one latency. */
class LatencyColumn {
  readonly mean = new Float32Array(BUCKET_COUNT).fill(NaN);
  readonly p50 = new Float32Array(BUCKET_COUNT).fill(NaN);
  readonly p95 = new Float32Array(BUCKET_COUNT).fill(NaN);
  readonly #open = new LatencyHistogram();
  #sum = 0;

  add(ms: number): void {
    this.#open.add(ms);
    this.#sum += ms;
  }

  /** Writes the open bucket's mean and percentiles into `slot` and starts an empty one. */
  close(slot: number): void {
    this.#write(slot);
    this.#open.reset();
    this.#sum = 0;
  }

  /** The open bucket's values in `slot`, as they are so far. */
  #write(slot: number): void {
    const count = this.#open.count;
    this.mean[slot] = count === 0 ? NaN : this.#sum / count;
    this.p50[slot] = this.#open.percentile(0.5) ?? NaN;
    this.p95[slot] = this.#open.percentile(0.95) ?? NaN;
  }

  /** The series from `first` slot on, the open bucket last. */
  read(first: number, open: number): LatencySeries {
    this.#write(open);
    return {
      mean: inOrder(this.mean, first),
      p50: inOrder(this.p50, first),
      p95: inOrder(this.p95, first),
    };
  }

  clear(slot: number): void {
    this.mean[slot] = NaN;
    this.p50[slot] = NaN;
    this.p95[slot] = NaN;
  }
}

/** An hour of one stream of requests, bucket by bucket. */
export class HistoryRing {
  readonly #requests = new Float32Array(BUCKET_COUNT);
  readonly #errors = new Float32Array(BUCKET_COUNT);
  readonly #rateLimited = new Float32Array(BUCKET_COUNT);
  readonly #outputTokens = new Float32Array(BUCKET_COUNT);
  readonly #ttft = new LatencyColumn();
  readonly #itl = new LatencyColumn();
  readonly #queueMean = new Float32Array(BUCKET_COUNT).fill(NaN);
  readonly #queueMax = new Float32Array(BUCKET_COUNT).fill(NaN);
  /** The open bucket's queue samples. */
  #queueSum = 0;
  #queueSamples = 0;
  #queueMost = 0;
  /** The open bucket: clock time divided by {@link BUCKET_MS}. */
  #bucket: number;

  constructor(now: number) {
    this.#bucket = Math.floor(now / BUCKET_MS);
  }

  /** Counts a request that finished at clock time `now`. */
  add(now: number, request: SettledRequest): void {
    const slot = this.#slotAt(now);
    this.#requests[slot]!++;
    if (request.failed) this.#errors[slot]!++;
    if (request.status === 429) this.#rateLimited[slot]!++;
    if (request.outputTokens > 0) this.#outputTokens[slot]! += request.outputTokens;
    if (request.firstChunk !== undefined && !request.failed && request.status < 400) {
      this.#ttft.add(request.firstChunk);
      if (request.interTokenLatency !== undefined) this.#itl.add(request.interTokenLatency);
    }
  }

  /** Takes a sample of how many requests wait in the queues at clock time `now`. */
  sampleQueue(now: number, waiting: number): void {
    this.#slotAt(now);
    this.#queueSum += waiting;
    this.#queueSamples++;
    if (waiting > this.#queueMost) this.#queueMost = waiting;
  }

  /** The hour up to clock time `now`, the bucket `now` is in last. */
  read(now: number): HistoryWindow {
    const open = this.#slotAt(now);
    this.#writeQueue(open);
    const first = (open + 1) % BUCKET_COUNT;
    const elapsed = Math.max(1, (now - this.#bucket * BUCKET_MS) / 1000);
    const perSecond = (counts: Float32Array) => {
      const rates = Array.from(inOrder(counts, first), (count) => (count ?? 0) / SECONDS);
      rates[rates.length - 1] = counts[open]! / elapsed;
      return rates.map(round);
    };
    return {
      start: (this.#bucket - BUCKET_COUNT + 1) * BUCKET_MS,
      bucketSeconds: SECONDS,
      lastBucketSeconds: round(elapsed),
      requestsPerSecond: perSecond(this.#requests),
      errorsPerSecond: perSecond(this.#errors),
      rateLimitedPerSecond: perSecond(this.#rateLimited),
      outputTokensPerSecond: perSecond(this.#outputTokens),
      timeToFirstToken: this.#ttft.read(first, open),
      interTokenLatency: this.#itl.read(first, open),
      queueMean: inOrder(this.#queueMean, first),
      queueMax: inOrder(this.#queueMax, first),
    };
  }

  /**
   * The slot of the bucket clock time `now` is in, closing the open bucket and emptying those
   * skipped when `now` is past it. A clock that went back counts in the open bucket.
   */
  #slotAt(now: number): number {
    const bucket = Math.floor(now / BUCKET_MS);
    if (bucket > this.#bucket) this.#roll(bucket);
    return this.#bucket % BUCKET_COUNT;
  }

  #roll(bucket: number): void {
    const closing = this.#bucket % BUCKET_COUNT;
    this.#ttft.close(closing);
    this.#itl.close(closing);
    this.#writeQueue(closing);
    this.#queueSum = 0;
    this.#queueSamples = 0;
    this.#queueMost = 0;
    const skipped = Math.min(bucket - this.#bucket, BUCKET_COUNT);
    for (let step = 1; step <= skipped; step++) {
      const slot = (this.#bucket + step) % BUCKET_COUNT;
      this.#requests[slot] = 0;
      this.#errors[slot] = 0;
      this.#rateLimited[slot] = 0;
      this.#outputTokens[slot] = 0;
      this.#ttft.clear(slot);
      this.#itl.clear(slot);
      this.#queueMean[slot] = NaN;
      this.#queueMax[slot] = NaN;
    }
    this.#bucket = bucket;
  }

  #writeQueue(slot: number): void {
    const samples = this.#queueSamples;
    this.#queueMean[slot] = samples === 0 ? NaN : this.#queueSum / samples;
    this.#queueMax[slot] = samples === 0 ? NaN : this.#queueMost;
  }
}

/** The ring's values oldest first, from slot `first` round to the slot before it. */
function inOrder(values: Float32Array, first: number): (number | null)[] {
  const ordered: (number | null)[] = new Array(BUCKET_COUNT);
  for (let i = 0; i < BUCKET_COUNT; i++) {
    const value = values[(first + i) % BUCKET_COUNT]!;
    ordered[i] = Number.isNaN(value) ? null : round(value);
  }
  return ordered;
}

/** To three decimals: a Float32's digits beyond say nothing. */
function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

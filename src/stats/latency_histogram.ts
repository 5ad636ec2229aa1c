/**
 * A latency distribution kept in logarithmic buckets: adding a sample is one logarithm and one
 * increment, whatever the traffic, and any percentile is read within the width of a bucket
 * (5%). For the statistics endpoints' p50/p90/p99, per model and per instance.
 * @module
 */

/** Samples at or below this (ms) share the first bucket. */
const SMALLEST = 0.1;
/** Samples at or above this (ms), an hour, share the last bucket. */
const LARGEST = 3_600_000;
/** Each bucket's upper bound is this many times its lower one. */
const GROWTH = 1.05;
const LOG_GROWTH = Math.log(GROWTH);
const BUCKETS = Math.ceil(Math.log(LARGEST / SMALLEST) / LOG_GROWTH) + 2;

/** Counts of latencies (ms) in buckets 5% wide, with the exact smallest and largest seen. */
export class LatencyHistogram {
  readonly #counts = new Uint32Array(BUCKETS);
  #count = 0;
  #min = Infinity;
  #max = -Infinity;

  /** A histogram of every sample of `histograms`. */
  static merged(histograms: Iterable<LatencyHistogram>): LatencyHistogram {
    const merged = new LatencyHistogram();
    for (const histogram of histograms) merged.#add(histogram);
    return merged;
  }

  /** Samples added since start or the last reset. */
  get count(): number {
    return this.#count;
  }

  /** Adds a sample of `ms`. */
  add(ms: number): void {
    this.#counts[bucketOf(ms)]!++;
    this.#count++;
    if (ms < this.#min) this.#min = ms;
    if (ms > this.#max) this.#max = ms;
  }

  /**
   * The latency that a share `q` (0 to 1) of the samples did not exceed, as the middle of its
   * bucket kept within the smallest and largest sample (which the first and last rank are);
   * null without samples.
   */
  percentile(q: number): number | null {
    if (this.#count === 0) return null;
    const rank = Math.max(1, Math.ceil(q * this.#count));
    // The ends are known exactly.
    if (rank >= this.#count) return this.#max;
    if (rank === 1) return this.#min;
    let seen = 0;
    let bucket = 0;
    for (; bucket < BUCKETS - 1; bucket++) {
      seen += this.#counts[bucket]!;
      if (seen >= rank) break;
    }
    return Math.min(this.#max, Math.max(this.#min, middleOf(bucket)));
  }

  /** Forgets every sample. */
  reset(): void {
    this.#counts.fill(0);
    this.#count = 0;
    this.#min = Infinity;
    this.#max = -Infinity;
  }

  #add(other: LatencyHistogram): void {
    for (let bucket = 0; bucket < BUCKETS; bucket++) {
      this.#counts[bucket]! += other.#counts[bucket]!;
    }
    this.#count += other.#count;
    this.#min = Math.min(this.#min, other.#min);
    this.#max = Math.max(this.#max, other.#max);
  }
}

/** Bucket 0 holds up to {@link SMALLEST}; bucket `i` from `SMALLEST·GROWTH^(i-1)` on. */
function bucketOf(ms: number): number {
  if (!(ms > SMALLEST)) return 0;
  return Math.min(BUCKETS - 1, Math.floor(Math.log(ms / SMALLEST) / LOG_GROWTH) + 1);
}

/**
 * The geometric middle of a bucket; the end buckets, open on one side, stand for the smallest
 * and the largest sample.
 */
function middleOf(bucket: number): number {
  if (bucket === 0) return 0;
  if (bucket === BUCKETS - 1) return Infinity;
  return SMALLEST * GROWTH ** (bucket - 0.5);
}

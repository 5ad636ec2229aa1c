/**
 * Choosing among models that differ in quality, cost and speed: keep those no other beats on
 * all three at once (the Pareto front), then rank them by a weighted score.
 * @module
 */

/** One option as the choice sees it. */
export interface Candidate {
  /** How good its answers are, 0 to 1; higher is better. */
  readonly quality: number;
  /** What a typical request costs, in USD; lower is better. */
  readonly cost: number;
  /** Expected ms to its first token; lower is better; undefined when not measured yet. */
  readonly latency: number | undefined;
}

/** How much each attribute counts in the score; each at least 0. */
export interface Weights {
  readonly quality: number;
  readonly cost: number;
  readonly latency: number;
}

/**
 * Whether `a` dominates `b`: at least as good on quality, cost and latency, and better on one.
 * Latencies are compared as given; fill unknown ones first (see {@linkcode rankCandidates}).
 */
export function dominates(a: Measured, b: Measured): boolean {
  if (a.quality < b.quality || a.cost > b.cost || a.latency > b.latency) return false;
  return a.quality > b.quality || a.cost < b.cost || a.latency < b.latency;
}

/** A candidate with its latency known (filled in) for comparison. */
export interface Measured {
  readonly quality: number;
  readonly cost: number;
  readonly latency: number;
}

/**
 * `candidates` best first: those on the Pareto front by their weighted score, then the
 * dominated ones by theirs, each tie kept in the given order.
 *
 * A candidate whose latency is unknown counts as 0 ms, faster than any measured, so that a
 * model not measured yet is tried and measured rather than shut out. The score is the
 * weighted sum of each attribute scaled to 0..1 over the front (1 for the best quality, the
 * lowest cost and the lowest latency; 1 for all when they are equal); the dominated candidates,
 * tried only when the whole front failed, are scored the same way among themselves.
 */
export function rankCandidates<C extends Candidate>(
  candidates: readonly C[],
  weights: Weights,
): C[] {
  const scored = candidates.map((candidate, index) => ({
    candidate,
    index,
    quality: candidate.quality,
    cost: candidate.cost,
    latency: candidate.latency ?? 0,
    front: true,
    score: 0,
  }));
  for (const entry of scored) {
    entry.front = !scored.some((other) => other !== entry && dominates(other, entry));
  }
  const front = scored.filter((entry) => entry.front);
  const dominated = scored.filter((entry) => !entry.front);
  score(front, weights);
  score(dominated, weights);
  return scored
    .sort((a, b) => Number(b.front) - Number(a.front) || b.score - a.score || a.index - b.index)
    .map((entry) => entry.candidate);
}

/** Sets each entry's weighted score, its attributes scaled over `entries`. */
function score(
  entries: readonly { quality: number; cost: number; latency: number; score: number }[],
  weights: Weights,
): void {
  const quality = rangeOf(entries.map((entry) => entry.quality));
  const cost = rangeOf(entries.map((entry) => entry.cost));
  const latency = rangeOf(entries.map((entry) => entry.latency));
  for (const entry of entries) {
    entry.score = weights.quality * higherBetter(entry.quality, quality) +
      weights.cost * lowerBetter(entry.cost, cost) +
      weights.latency * lowerBetter(entry.latency, latency);
  }
}

interface Range {
  readonly min: number;
  readonly max: number;
}

function rangeOf(values: readonly number[]): Range {
  return { min: Math.min(...values), max: Math.max(...values) };
}

/** `value` scaled to 0..1 within `range`, 1 at its top; 1 when the range is a point. */
function higherBetter(value: number, { min, max }: Range): number {
  return max === min ? 1 : (value - min) / (max - min);
}

/** `value` scaled to 0..1 within `range`, 1 at its bottom; 1 when the range is a point. */
function lowerBetter(value: number, { min, max }: Range): number {
  return max === min ? 1 : (max - value) / (max - min);
}

import { costOf } from "./least_load.ts";
import type { PickContext, Strategy, StrategyOptions, Weighted } from "./types.ts";

/**
 * An instance whose newest time to first token is older than this (ms) is measured again: it
 * counts as cold until a request there brings a fresh one. So a slow instance gets about one
 * request per this span while faster ones take the traffic, enough to notice when it is fast
 * again.
 */
export const RELEARN_AFTER = 30_000;

/**
 * The lowest success rate counted: an instance failing every request is expected to cost 19
 * retries, not endless ones, so that it keeps its place behind the others rather than being
 * lost. (The breaker and outlier detection take it out of rotation.)
 */
export const MIN_SUCCESS = 0.05;

/**
 * `fastest`: the instance expected to give the first token soonest, chosen by the power of two
 * choices: two eligible instances drawn at random by weight, the one with the lower expected
 * time wins (on a tie, a cold one, else the first drawn). Comparing two, not all, keeps one fast
 * instance from drawing every request at once; its own load then makes it lose to a slower idle
 * one.
 *
 * An instance's expected time to first token is
 *
 * ```
 * ttft × (1 + load) + (1 ÷ max(success, MIN_SUCCESS) − 1) × retry
 * ```
 *
 * - `ttft`: the decaying average of its measured time to first token. An instance that is cold
 *   (nothing measured, or nothing newer than {@linkcode RELEARN_AFTER}) counts as fast as the
 *   fastest measured one that is eligible, and wins a tie with it, so that it gets traffic and
 *   is measured (again); with a request in flight it counts as loaded, so one probe at a time;
 *   with none measured every instance counts the same and this is least-load drawn at random.
 * - `load`: its work per unit of weight as `least-load` sees it (requests in flight, the
 *   backend's own queue and KV cache when it reports them, a model it would have to load).
 * - `success`: the decaying average of its success rate, 1 before any outcome or when the newest
 *   is older than {@linkcode RELEARN_AFTER}. A request that fails is tried again elsewhere, so
 *   it costs `retry`, the slowest measured time to first token among the eligible; failing in
 *   a row, `1 ÷ success − 1` times on average. An instance that fails fast thus does not look
 *   fast.
 */
export function fastest<T extends Weighted>(
  pool: readonly T[],
  options: StrategyOptions,
): Strategy<T> {
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  // Which items are eligible in the pick under way, so that `eligible` is asked once per item.
  const open = new Uint8Array(pool.length);
  return {
    pick(context, eligible) {
      const at = now();
      let total = 0;
      let count = 0;
      let fastestMeasured = Infinity;
      let slowestMeasured = 0;
      for (let i = 0; i < pool.length; i++) {
        const item = pool[i]!;
        open[i] = eligible(item) ? 1 : 0;
        if (open[i] === 0) continue;
        total += item.weight;
        count++;
        const ttft = measuredFirstToken(item, at);
        if (ttft === undefined) continue;
        if (ttft < fastestMeasured) fastestMeasured = ttft;
        if (ttft > slowestMeasured) slowestMeasured = ttft;
      }
      if (count === 0) return undefined;
      const first = draw(random() * total, -1);
      if (count === 1) return pool[first];
      const second = draw(random() * (total - pool[first]!.weight), first);
      const reference = fastestMeasured === Infinity
        ? { now: at, cold: 1, retry: 1 }
        : { now: at, cold: fastestMeasured, retry: slowestMeasured };
      const a = expectedFirstToken(pool[first]!, context, reference);
      const b = expectedFirstToken(pool[second]!, context, reference);
      if (a !== b) return b < a ? pool[second] : pool[first];
      // A tie between a cold and a measured one: the cold one, to be measured.
      return measuredFirstToken(pool[first]!, at) !== undefined &&
          measuredFirstToken(pool[second]!, at) === undefined
        ? pool[second]
        : pool[first];
    },
  };

  /** The eligible item (but `skip`) at `point` of their weights laid end to end. */
  function draw(point: number, skip: number): number {
    let last = -1;
    for (let i = 0; i < pool.length; i++) {
      if (open[i] === 0 || i === skip) continue;
      last = i;
      point -= pool[i]!.weight;
      if (point < 0) return i;
    }
    return last;
  }
}

/** What the expected times of one pick are reckoned against. */
export interface PickReference {
  /** Clock time (ms) of the pick. */
  readonly now: number;
  /** The time to first token assumed where none is measured: the fastest measured. */
  readonly cold: number;
  /** What a failed request costs besides its own time: the slowest measured. */
  readonly retry: number;
}

/** What `item` is expected to take to its first token, in ms, as {@linkcode fastest} reckons. */
export function expectedFirstToken(
  item: Weighted,
  context: PickContext,
  reference: PickReference,
): number {
  const { now } = reference;
  const ttft = measuredFirstToken(item, now) ?? reference.cold;
  const success = item.state.performance?.success;
  const rate = success?.value === undefined || now - success.at > RELEARN_AFTER
    ? 1
    : Math.max(success.value, MIN_SUCCESS);
  return ttft * (1 + costOf(item, context, now)) + (1 / rate - 1) * reference.retry;
}

/** The item's measured time to first token, unless it has none newer than RELEARN_AFTER. */
function measuredFirstToken(item: Weighted, now: number): number | undefined {
  const firstToken = item.state.performance?.firstToken;
  if (firstToken?.value === undefined || now - firstToken.at > RELEARN_AFTER) return undefined;
  return firstToken.value;
}

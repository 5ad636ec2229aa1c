import { lowestCost } from "./_lowest_cost.ts";
import type { PickContext, Strategy, StrategyOptions, Weighted } from "./types.ts";

/**
 * What a cold start is worth, in queued requests: an instance whose backend has the model
 * loaded wins over one that would have to load it, unless its queue is this much longer.
 */
export const COLD_START_COST = 4;

/**
 * What evicting another model is worth, in queued requests, on top of the cold start: loading
 * the model on a backend that has other models loaded may push one of them out, and the next
 * request for that one pays a cold start in turn.
 */
export const EVICTION_COST = 2;

/** Tokens in flight (estimated prompt and answer) that weigh as much as one request. */
export const TOKENS_PER_REQUEST = 1_000;

/** A backend's load reading this many ms old counts half as much as a fresh one. */
export const READING_HALF_LIFE = 3_000;

/** A backend's load reading this many ms old or older counts not at all. */
export const READING_MAX_AGE = 15_000;

/**
 * `least-load`: the item with the least work per unit of weight, fusing the gateway's own
 * counts with what its backend reports.
 *
 * The real-time term is the gateway's own: its requests in flight to the item plus their
 * estimated tokens ({@linkcode TOKENS_PER_REQUEST} tokens count as one request), per unit of
 * weight. The backend's reading corrects it: the requests it runs and queues beyond the
 * gateway's own (sent by others) per unit of weight, its KV-cache usage (a full cache counts as
 * one more request), {@linkcode COLD_START_COST} when it lists the models it has loaded and the
 * requested one is not among them, and {@linkcode EVICTION_COST} more when it has others
 * loaded. The correction counts by the reading's age: fully when fresh, half at
 * {@linkcode READING_HALF_LIFE}, not at all from {@linkcode READING_MAX_AGE}; without a
 * reading, or with an old one, this is `least-connections` weighed by tokens. Ties are broken
 * by smooth weighted round-robin.
 */
export function leastLoad<T extends Weighted>(
  pool: readonly T[],
  options: StrategyOptions = {},
): Strategy<T> {
  const clock = options.now ?? Date.now;
  // One clock read per pick: every item's reading ages from the same instant.
  let now = 0;
  const strategy = lowestCost(pool, (item: T, context) => costOf(item, context, now));
  return {
    pick(context, eligible) {
      now = clock();
      return strategy.pick(context, eligible);
    },
  };
}

/** How much a load reading `age` ms old counts, from 1 (fresh) to 0 (old). */
export function readingWeight(age: number): number {
  if (age >= READING_MAX_AGE) return 0;
  if (age <= 0) return 1;
  return 2 ** (-age / READING_HALF_LIFE);
}

/** The cost of sending one more request to `item` at clock time `now`. */
export function costOf(item: Weighted, context: PickContext, now: number): number {
  const { active, activeTokens = 0 } = item.state;
  const own = (active + activeTokens / TOKENS_PER_REQUEST) / item.weight;
  const load = item.backend?.load;
  if (load === undefined) return own;
  const trust = readingWeight(now - load.readAt);
  if (trust === 0) return own;
  const { running, waiting, kvCacheUsage } = load.reading;
  // The backend's count includes the gateway's own requests, as far as it has seen them.
  const others = Math.max(0, (running ?? 0) + (waiting ?? 0) - active);
  const cold = load.loaded !== undefined && context.model !== undefined &&
    !load.loaded.has(context.model);
  const evicts = cold && load.loaded.size > 0;
  const correction = others / item.weight + (kvCacheUsage ?? 0) +
    (cold ? COLD_START_COST : 0) + (evicts ? EVICTION_COST : 0);
  return own + trust * correction;
}

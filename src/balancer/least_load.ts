import { lowestCost } from "./_lowest_cost.ts";
import type { PickContext, Strategy, Weighted } from "./types.ts";

/**
 * What a cold start is worth, in queued requests: an instance whose backend has the model
 * loaded wins over one that would have to load it, unless its queue is this much longer.
 */
export const COLD_START_COST = 4;

/**
 * `least-load`: the item with the least work per unit of weight, as its backend reports it.
 *
 * An item's cost is its queue (the larger of the gateway's own requests in flight and the
 * backend's running + waiting requests, since the reading may be a few seconds old) divided by
 * its weight, plus its KV-cache usage (a full cache counts as one more request), plus
 * {@linkcode COLD_START_COST} when its backend lists the models it has loaded and the requested
 * one is not among them. Without readings this is `least-connections`. Ties are broken by
 * smooth weighted round-robin.
 */
export function leastLoad<T extends Weighted>(pool: readonly T[]): Strategy<T> {
  return lowestCost(pool, costOf);
}

/** The cost of sending one more request to `item`. */
export function costOf(item: Weighted, context: PickContext): number {
  const load = item.backend?.load;
  if (load === undefined) return item.state.active / item.weight;
  const { running, waiting, kvCacheUsage } = load.reading;
  const reported = running === undefined && waiting === undefined
    ? 0
    : (running ?? 0) + (waiting ?? 0);
  const queue = Math.max(item.state.active, reported);
  const cold = load.loaded !== undefined && context.model !== undefined &&
    !load.loaded.has(context.model);
  return queue / item.weight + (kvCacheUsage ?? 0) + (cold ? COLD_START_COST : 0);
}

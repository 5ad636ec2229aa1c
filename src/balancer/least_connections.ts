import { lowestCost } from "./_lowest_cost.ts";
import type { Strategy, Weighted } from "./types.ts";

/**
 * `least-connections`: the item with the fewest requests in flight per unit of weight. Ties,
 * such as every item idle, are broken by smooth weighted round-robin.
 */
export function leastConnections<T extends Weighted>(pool: readonly T[]): Strategy<T> {
  return lowestCost(pool, (item) => item.state.active / item.weight);
}

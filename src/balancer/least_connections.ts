import { SmoothWeighted } from "./smooth_weighted.ts";
import type { Strategy, Weighted } from "./types.ts";

/**
 * `least-connections`: the item with the fewest requests in flight per unit of weight. Ties,
 * such as every item idle, are broken by smooth weighted round-robin, so light sequential
 * traffic still spreads by weight.
 */
export function leastConnections<T extends Weighted>(pool: readonly T[]): Strategy<T> {
  const wheel = new SmoothWeighted(pool);
  return {
    pick(_context, eligible) {
      let least = Infinity;
      for (const item of pool) {
        if (!eligible(item)) continue;
        const load = item.state.active / item.weight;
        if (load < least) least = load;
      }
      if (least === Infinity) return undefined;
      return wheel.next((item) => eligible(item) && item.state.active / item.weight === least);
    },
  };
}

import { SmoothWeighted } from "./smooth_weighted.ts";
import type { PickContext, Strategy, Weighted } from "./types.ts";

/**
 * A strategy that picks the eligible item of lowest cost, breaking ties (such as every item
 * idle) by smooth weighted round-robin, so light sequential traffic still spreads by weight.
 */
export function lowestCost<T extends Weighted>(
  pool: readonly T[],
  costOf: (item: T, context: PickContext) => number,
): Strategy<T> {
  const wheel = new SmoothWeighted(pool);
  return {
    pick(context, eligible) {
      let least = Infinity;
      for (const item of pool) {
        if (!eligible(item)) continue;
        const cost = costOf(item, context);
        if (cost < least) least = cost;
      }
      if (least === Infinity) return undefined;
      return wheel.next((item) => eligible(item) && costOf(item, context) === least);
    },
  };
}

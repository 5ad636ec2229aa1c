import { PERFORMANCE_HALF_LIFE } from "./performance.ts";
import { typicalRequestPrice } from "./price.ts";
import { SmoothWeighted } from "./smooth_weighted.ts";
import type { Strategy, StrategyOptions, Weighted } from "./types.ts";

/**
 * ms after which an item's last measured time to first token no longer counts: six half-lives,
 * when a new sample would outweigh it 63 to 1. An item passed over for being slow thus gets a
 * request again once its measurement is this old, and is measured anew.
 */
export const MEASUREMENT_STALE_AFTER = 6 * PERFORMANCE_HALF_LIFE;

/**
 * `cost`: the cheapest eligible item whose expected time to first token is within
 * `options.maxLatency` ms; when none is, the fastest.
 *
 * An item's price is what a typical request of 1,000 input and 1,000 output tokens costs at
 * its `price` ({@linkcode typicalRequestPrice}), computed when the strategy is built; an item
 * without a price costs 0. Its expected latency is the decaying average of its measured time to
 * first token; an item not measured yet, or last measured {@linkcode MEASUREMENT_STALE_AFTER} ms
 * ago or more, counts as within the bound, so that it gets traffic and is measured. Ties (equal
 * prices, or equal latencies) are broken by smooth weighted round-robin.
 */
export function cost<T extends Weighted>(
  pool: readonly T[],
  options: StrategyOptions,
): Strategy<T> {
  const bound = options.maxLatency ?? Infinity;
  const clock = options.now ?? Date.now;
  const prices = new Map<T, number>(pool.map((item) => [item, typicalRequestPrice(item.price)]));
  const wheel = new SmoothWeighted(pool);
  return {
    pick(_context, eligible) {
      const now = clock();
      const within = (item: T) => {
        const latency = expectedLatency(item, now);
        return latency === undefined || latency <= bound;
      };
      let cheapest = Infinity;
      let fastest = Infinity;
      for (const item of pool) {
        if (!eligible(item)) continue;
        const latency = expectedLatency(item, now);
        if (latency === undefined || latency <= bound) {
          cheapest = Math.min(cheapest, prices.get(item)!);
        } else {
          fastest = Math.min(fastest, latency);
        }
      }
      if (cheapest !== Infinity) {
        return wheel.next((item) =>
          eligible(item) && prices.get(item) === cheapest && within(item)
        );
      }
      if (fastest === Infinity) return undefined;
      return wheel.next((item) => eligible(item) && expectedLatency(item, now) === fastest);
    },
  };
}

/** ms an item is expected to take to its first token; undefined when unmeasured or stale. */
export function expectedLatency(item: Weighted, now: number): number | undefined {
  const firstToken = item.state.performance?.firstToken;
  if (firstToken === undefined || now - firstToken.at >= MEASUREMENT_STALE_AFTER) return undefined;
  return firstToken.value;
}

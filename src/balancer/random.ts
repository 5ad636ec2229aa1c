import type { StrategyFactory } from "./types.ts";

/** `random`: each eligible item with probability weight ÷ total eligible weight. */
export const random: StrategyFactory = (pool, options) => {
  const random = options.random ?? Math.random;
  return {
    pick(_context, eligible) {
      let total = 0;
      for (const item of pool) if (eligible(item)) total += item.weight;
      if (total === 0) return undefined;
      let point = random() * total;
      let last;
      for (const item of pool) {
        if (!eligible(item)) continue;
        last = item;
        point -= item.weight;
        if (point < 0) return item;
      }
      return last;
    },
  };
};

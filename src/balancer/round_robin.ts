import { SmoothWeighted } from "./smooth_weighted.ts";
import type { StrategyFactory } from "./types.ts";

/** `round-robin`: smooth weighted round-robin, as nginx does it. */
export const roundRobin: StrategyFactory = (pool) => {
  const wheel = new SmoothWeighted(pool);
  return { pick: (_context, eligible) => wheel.next(eligible) };
};

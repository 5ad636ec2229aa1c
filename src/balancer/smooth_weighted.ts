import type { Weighted } from "./types.ts";

/**
 * nginx's smooth weighted round-robin over a fixed pool: over any run of Σweight picks each
 * item is picked weight times, and heavy items are spread out rather than picked in a burst.
 */
export class SmoothWeighted<T extends Weighted> {
  readonly #pool: readonly T[];
  readonly #current: Float64Array;

  constructor(pool: readonly T[]) {
    this.#pool = pool;
    this.#current = new Float64Array(pool.length);
  }

  /** Picks among the items `include` accepts; `undefined` when it accepts none. */
  next(include: (item: T) => boolean): T | undefined {
    let total = 0;
    let best = -1;
    for (let i = 0; i < this.#pool.length; i++) {
      const item = this.#pool[i]!;
      if (!include(item)) continue;
      this.#current[i]! += item.weight;
      total += item.weight;
      if (best === -1 || this.#current[i]! > this.#current[best]!) best = i;
    }
    if (best === -1) return undefined;
    this.#current[best]! -= total;
    return this.#pool[best];
  }
}

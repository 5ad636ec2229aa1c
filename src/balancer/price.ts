/**
 * What an instance costs, and what one request to it cost: prices in USD per million input
 * tokens, per million output tokens, and per request answered.
 * @module
 */

/** An instance's prices in USD; a price not given is 0. */
export interface Price {
  /** USD per million input (prompt) tokens. */
  readonly input: number;
  /** USD per million output (generated) tokens. */
  readonly output: number;
  /** USD per request answered. */
  readonly request: number;
}

/** Token counts as a backend reports them in `usage`. */
export interface CountedTokens {
  readonly input: number;
  readonly output: number;
}

/** The tokens of the typical request that {@linkcode typicalRequestPrice} prices. */
export const TYPICAL_REQUEST: CountedTokens = { input: 1_000, output: 1_000 };

/**
 * USD a request cost: its tokens at the instance's prices plus the price per request. Without
 * a `usage` the backend reported, only the price per request is counted.
 */
export function requestCost(price: Price, usage: CountedTokens | undefined): number {
  const tokens = usage === undefined
    ? 0
    : (usage.input * price.input + usage.output * price.output) / 1_000_000;
  return tokens + price.request;
}

/**
 * One number to rank instances by price: the cost of a {@linkcode TYPICAL_REQUEST} of 1,000
 * input and 1,000 output tokens. An instance without a price costs 0.
 */
export function typicalRequestPrice(price: Price | undefined): number {
  return price === undefined ? 0 : requestCost(price, TYPICAL_REQUEST);
}

/**
 * The rate limiter algorithms by the name used in `rate-limit.algorithm`, and
 * {@linkcode createLimiter} to build the one settings ask for.
 * @module
 */
import type { LimiterFactory } from "./_shared.ts";
import { leakyBucket } from "./leaky_bucket.ts";
import { slidingWindow } from "./sliding_window.ts";
import { tokenBucket } from "./token_bucket.ts";
import type { Limiter, LimiterAlgorithm, LimiterSettings, LimiterState } from "./types.ts";
import { warmUp } from "./warm_up.ts";

export * from "./types.ts";
export type { LimiterFactory } from "./_shared.ts";

/** Each algorithm's factory by its config name. */
export const LIMITER_FACTORIES: Readonly<Record<LimiterAlgorithm, LimiterFactory>> = {
  "token-bucket": tokenBucket,
  "leaky-bucket": leakyBucket,
  "sliding-window": slidingWindow,
  "warm-up": warmUp,
};

/**
 * Builds the limiter `settings.algorithm` names, at clock time `now`: from `saved` when it is a
 * valid state of that algorithm, otherwise fresh. A `saved` state that is malformed or was
 * written by another algorithm is ignored, never an error.
 * @throws {RangeError} when the settings are out of range for the algorithm.
 */
export function createLimiter(
  settings: LimiterSettings,
  now: number,
  saved?: LimiterState,
): Limiter {
  return LIMITER_FACTORIES[settings.algorithm](settings, now, saved);
}

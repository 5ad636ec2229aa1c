/**
 * How long to wait before retrying a request to a backend. Uses "full jitter": the wait is a
 * random time between zero and an exponentially growing ceiling, which is capped. Spreading the
 * retries of many clients over the whole range keeps them from hitting a recovering backend at
 * the same moment.
 * @module
 */

/** The delays a backoff grows between, in milliseconds. */
export interface BackoffSettings {
  /** The ceiling for the first retry; it doubles with each retry after that. */
  readonly base: number;
  /** The highest the ceiling grows to. */
  readonly max: number;
}

/**
 * The wait in whole milliseconds before a retry: `random()` times the smaller of `max` and
 * `base × 2^attempt`, rounded down. `attempt` is 0 for the first retry; `random` returns a number
 * from 0 up to but not including 1, like `Math.random`. Throws a RangeError when `attempt` is not
 * a non-negative integer or a setting is not a finite non-negative number.
 */
export function backoffDelay(
  attempt: number,
  settings: BackoffSettings,
  random: () => number,
): number {
  const { base, max } = settings;
  if (!Number.isInteger(attempt) || attempt < 0) {
    throw new RangeError(`attempt must be a non-negative integer, got ${attempt}`);
  }
  if (!Number.isFinite(base) || base < 0) {
    throw new RangeError(`base must be a finite non-negative number, got ${base}`);
  }
  if (!Number.isFinite(max) || max < 0) {
    throw new RangeError(`max must be a finite non-negative number, got ${max}`);
  }
  // For large attempts 2^attempt is Infinity, which the cap absorbs, but 0 × Infinity is NaN.
  const ceiling = base === 0 ? 0 : Math.min(max, base * 2 ** attempt);
  return Math.floor(random() * ceiling);
}

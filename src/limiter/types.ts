/**
 * What every rate limiter algorithm offers. Limiters are plain state machines over an injected
 * clock: they never read the time themselves and never schedule anything.
 * @module
 */

/** The limiter algorithms, as the config names them. */
export const LIMITER_ALGORITHMS = [
  "token-bucket",
  "leaky-bucket",
  "sliding-window",
  "warm-up",
] as const;

/** One of {@linkcode LIMITER_ALGORITHMS}. */
export type LimiterAlgorithm = (typeof LIMITER_ALGORITHMS)[number];

/** What one limiter counts, as the config names it. */
export const WRITTEN_LIMIT_SCOPES = [
  "global",
  "service",
  "instance",
  "client-ip",
  "api-key",
] as const;

/** What one limiter counts: a scope written in the config, or a team's limit its keys share. */
export const LIMIT_SCOPES = [...WRITTEN_LIMIT_SCOPES, "team"] as const;

/** One of {@linkcode LIMIT_SCOPES}. */
export type LimitScope = (typeof LIMIT_SCOPES)[number];

/** A limiter's settings, defaults applied. Times in ms, rates per second. */
export interface LimiterSettings {
  readonly algorithm: LimiterAlgorithm;
  /** Burst size (token-bucket, warm-up), queue length (leaky-bucket), or requests per window. */
  readonly capacity: number;
  /** Requests per second (token-bucket, leaky-bucket, warm-up). */
  readonly rate: number;
  /** The window of `sliding-window`, in ms. */
  readonly window: number;
  /** The time `warm-up` takes from cold to `rate` under full load, in ms. */
  readonly warmUpPeriod: number;
  /** `warm-up` starts at `rate / coldFactor`. */
  readonly coldFactor: number;
}

/** The answer to one request. */
export interface Decision {
  readonly allowed: boolean;
  /**
   * ms an admitted request waits before it may go on: `leaky-bucket` releases requests at its
   * rate; 0 for every other algorithm, and for a refused request.
   */
  readonly delay: number;
  /** Requests that would still be admitted right now, after this one; 0 when refused. */
  readonly remaining: number;
  /** ms until the limiter is back to its full budget, as if it had been idle. */
  readonly reset: number;
  /** When refused, ms until a request would be admitted; 0 when admitted. */
  readonly retryAfter: number;
}

/** A limiter's state as plain JSON, with absolute clock times, to save and restore. */
export type LimiterState = Readonly<Record<string, number | readonly number[]>>;

/** One rate limiter: one bucket, window or schedule. */
export interface Limiter {
  readonly settings: LimiterSettings;
  /** Admits (and counts) one request at clock time `now`, or refuses it (counting nothing). */
  acquire(now: number): Decision;
  /** What {@linkcode acquire} would answer at `now`, without counting anything. */
  peek(now: number): Decision;
  /**
   * Counts `count` requests admitted elsewhere (by other gateways sharing a store) at `now`:
   * they take room as `count` admitted requests would, beyond what is left when need be, so
   * that the limiter refuses until the room they took is back.
   */
  charge(count: number, now: number): void;
  /**
   * The clock time from which this limiter is indistinguishable from a fresh one, if nothing
   * more is acquired: it may then be dropped and recreated without anyone gaining or losing.
   */
  idleFrom(): number;
  /** The state to save, with absolute clock times. */
  save(): LimiterState;
}

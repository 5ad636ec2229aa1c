/**
 * What the limiter algorithms share: the factory signature, the tolerance against float drift,
 * the two shapes of a decision, checks on settings, and reading a saved state without trusting
 * it. A saved state carries the code of the algorithm that wrote it and the version of its
 * layout, so one algorithm never reads another's state.
 * @module
 */
import type {
  Decision,
  Limiter,
  LimiterAlgorithm,
  LimiterSettings,
  LimiterState,
} from "./types.ts";

/**
 * Builds a limiter at clock time `now`: from `saved` when it is a valid state written by the
 * same algorithm, otherwise fresh. Never throws on a bad `saved`; throws a `RangeError` on
 * settings the algorithm cannot work with.
 */
export type LimiterFactory = (
  settings: LimiterSettings,
  now: number,
  saved?: LimiterState,
) => Limiter;

/**
 * A limiter whose `acquire` and `peek` are one decision, made with or without counting the
 * request; each algorithm supplies that decision, its idle time and its saved state.
 */
export abstract class DecidingLimiter implements Limiter {
  readonly settings: LimiterSettings;

  constructor(settings: LimiterSettings) {
    this.settings = settings;
  }

  acquire(now: number): Decision {
    return this.decide(now, true);
  }

  peek(now: number): Decision {
    return this.decide(now, false);
  }

  /** What a request at `now` gets; it is counted only when `commit` is set and it is admitted. */
  protected abstract decide(now: number, commit: boolean): Decision;

  abstract charge(count: number, now: number): void;

  abstract idleFrom(): number;

  abstract save(): LimiterState;
}

/** Fractions of a request this small are float drift, not budget. */
export const EPSILON = 1e-9;

/** The code each algorithm writes into its saved state as `kind`. */
export const STATE_KINDS: Readonly<Record<LimiterAlgorithm, number>> = {
  "token-bucket": 1,
  "leaky-bucket": 2,
  "sliding-window": 3,
  "warm-up": 4,
};

/** The layout of saved states, written as `v`; a state of another layout is not read. */
export const STATE_VERSION = 1;

/** The decision for an admitted request. */
export function admitted(delay: number, remaining: number, reset: number): Decision {
  return { allowed: true, delay, remaining, reset, retryAfter: 0 };
}

/** The decision for a refused request. */
export function refused(retryAfter: number, reset: number): Decision {
  return { allowed: false, delay: 0, remaining: 0, reset, retryAfter };
}

/** Throws a `RangeError` unless `settings.capacity` is a whole number of requests, at least 1. */
export function requireCapacity(settings: LimiterSettings): void {
  const { capacity } = settings;
  if (!Number.isSafeInteger(capacity) || capacity < 1) {
    throw new RangeError(
      `${settings.algorithm}: capacity must be a whole number of at least 1, got ${capacity}`,
    );
  }
}

/**
 * Throws a `RangeError` unless the setting `name` is finite and at least `least`, or above it
 * when `exclusive`.
 */
export function requireSetting(
  settings: LimiterSettings,
  name: "rate" | "window" | "warmUpPeriod" | "coldFactor",
  least: number,
  exclusive: boolean,
): void {
  const value = settings[name];
  const ok = Number.isFinite(value) && (exclusive ? value > least : value >= least);
  if (!ok) {
    const bound = exclusive ? `above ${least}` : `at least ${least}`;
    throw new RangeError(`${settings.algorithm}: ${name} must be ${bound}, got ${value}`);
  }
}

/** A saved state's fields, as read before any of them is trusted. */
export type SavedFields = Readonly<Record<string, unknown>>;

/**
 * The fields of `saved` when it is an object written by `algorithm` in the current layout,
 * otherwise `undefined`.
 */
export function savedBy(saved: unknown, algorithm: LimiterAlgorithm): SavedFields | undefined {
  if (typeof saved !== "object" || saved === null || Array.isArray(saved)) return undefined;
  const fields = saved as SavedFields;
  if (ownField(fields, "kind") !== STATE_KINDS[algorithm]) return undefined;
  if (ownField(fields, "v") !== STATE_VERSION) return undefined;
  return fields;
}

/** The field `name` when it is a finite number of at least 0, otherwise `undefined`. */
export function savedNumber(fields: SavedFields, name: string): number | undefined {
  const value = ownField(fields, name);
  return isFiniteNonNegative(value) ? value : undefined;
}

/**
 * The field `name` when it is an array of finite numbers of at least 0 in ascending order
 * (ties allowed), otherwise `undefined`.
 */
export function savedAscending(fields: SavedFields, name: string): readonly number[] | undefined {
  const value = ownField(fields, name);
  if (!Array.isArray(value)) return undefined;
  let previous = 0;
  for (const item of value as readonly unknown[]) {
    if (!isFiniteNonNegative(item) || item < previous) return undefined;
    previous = item;
  }
  return value as readonly number[];
}

function ownField(fields: SavedFields, name: string): unknown {
  return Object.hasOwn(fields, name) ? fields[name] : undefined;
}

function isFiniteNonNegative(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value) && value >= 0;
}

/**
 * `warm-up`: Guava's `SmoothWarmingUp` rate limiter, asked without waiting (`tryAcquire` with
 * no timeout), with `capacity` as a tolerance for bursts. A limiter that has been idle is cold:
 * it admits requests at `rate / coldFactor` per second at first, and speeds up to `rate` over
 * `warmUpPeriod` ms of full load. Left idle, it cools down to cold again.
 *
 * Guava's model: the limiter keeps the time the next request is free to go (`nextFree`) and a
 * number of stored permits, which idle time adds (up to `maxPermits`) and requests spend. Each
 * request pushes `nextFree` back by what its permit costs. A fresh permit costs the stable
 * interval `1000 / rate`; a stored one costs the stable interval below `thresholdPermits`
 * stored, and more above it, rising in a straight line to the cold interval
 * `coldFactor × 1000 / rate` when all `maxPermits` are stored. The sizes are chosen so that
 * spending every permit above the threshold takes exactly `warmUpPeriod`, and filling up from
 * nothing while idle takes `warmUpPeriod` as well. A fresh limiter is cold: all permits stored.
 *
 * A request is admitted when `nextFree` is at most `(capacity − 1)` stable intervals ahead of
 * `now`; with a capacity of 1 that is Guava's `tryAcquire()`. Admitted requests go on at once.
 * With a `warmUpPeriod` of 0 nothing is ever stored and the limiter is a token bucket of
 * `capacity` tokens refilled at `rate` (the generic cell rate algorithm).
 * @module
 */
import {
  admitted,
  DecidingLimiter,
  EPSILON,
  type LimiterFactory,
  refused,
  requireCapacity,
  requireSetting,
  savedBy,
  savedNumber,
  STATE_KINDS,
  STATE_VERSION,
} from "./_shared.ts";
import type { Decision, LimiterSettings, LimiterState } from "./types.ts";

/** The shape of a warm-up schedule, from the settings: intervals in ms, permits in requests. */
interface Schedule {
  readonly stableInterval: number;
  readonly thresholdPermits: number;
  readonly maxPermits: number;
  /** How much the cost of a stored permit rises per permit stored above the threshold. */
  readonly slope: number;
  /** The idle time that stores one permit. */
  readonly coolDownInterval: number;
  /** How far ahead of `now` the next free time may be for a request to be admitted. */
  readonly tolerance: number;
}

function scheduleOf(settings: LimiterSettings): Schedule {
  const stableInterval = 1000 / settings.rate;
  const coldInterval = stableInterval * settings.coldFactor;
  const thresholdPermits = 0.5 * settings.warmUpPeriod / stableInterval;
  const maxPermits = thresholdPermits +
    2 * settings.warmUpPeriod / (stableInterval + coldInterval);
  const warms = maxPermits > thresholdPermits;
  return {
    stableInterval,
    thresholdPermits,
    maxPermits,
    slope: warms ? (coldInterval - stableInterval) / (maxPermits - thresholdPermits) : 0,
    coolDownInterval: maxPermits > 0 ? settings.warmUpPeriod / maxPermits : 0,
    tolerance: (settings.capacity - 1) * stableInterval,
  };
}

class WarmUp extends DecidingLimiter {
  readonly #schedule: Schedule;
  #storedPermits: number;
  #nextFree: number;

  constructor(settings: LimiterSettings, schedule: Schedule, stored: number, nextFree: number) {
    super(settings);
    this.#schedule = schedule;
    this.#storedPermits = stored;
    this.#nextFree = nextFree;
  }

  override idleFrom(): number {
    return this.#coldAt(this.#nextFree, this.#storedPermits);
  }

  override save(): LimiterState {
    return {
      kind: STATE_KINDS["warm-up"],
      v: STATE_VERSION,
      storedPermits: this.#storedPermits,
      nextFree: this.#nextFree,
    };
  }

  protected override decide(now: number, commit: boolean): Decision {
    const { stableInterval, tolerance } = this.#schedule;
    let stored = this.#storedPermits;
    let nextFree = this.#nextFree;
    const tooEarlyBy = nextFree - now - tolerance;
    if (tooEarlyBy > EPSILON * stableInterval) {
      return refused(tooEarlyBy, this.#coldAt(nextFree, stored) - now);
    }
    if (now > nextFree) {
      stored = this.#storedAfterIdle(stored, now - nextFree);
      nextFree = now;
    }
    const spent = Math.min(1, stored);
    nextFree += this.#storedPermitsToWaitTime(stored, spent) + (1 - spent) * stableInterval;
    stored -= spent;
    if (commit) {
      this.#storedPermits = stored;
      this.#nextFree = nextFree;
    }
    const remaining = this.#admissionsWithin(now + tolerance - nextFree, stored);
    return admitted(0, remaining, this.#coldAt(nextFree, stored) - now);
  }

  /** Spends `count` permits at once, as Guava's `reserve(count)` does, stored ones first. */
  override charge(count: number, now: number): void {
    if (count <= 0) return;
    let stored = this.#storedPermits;
    let nextFree = this.#nextFree;
    if (now > nextFree) {
      stored = this.#storedAfterIdle(stored, now - nextFree);
      nextFree = now;
    }
    const spent = Math.min(count, stored);
    nextFree += this.#storedPermitsToWaitTime(stored, spent) +
      (count - spent) * this.#schedule.stableInterval;
    this.#storedPermits = stored - spent;
    this.#nextFree = nextFree;
  }

  /** Guava's `resync`: the permits stored after `idle` ms with nothing to do. */
  #storedAfterIdle(stored: number, idle: number): number {
    const { maxPermits, coolDownInterval } = this.#schedule;
    if (maxPermits === 0) return 0;
    const filled = stored + idle / coolDownInterval;
    return filled >= maxPermits - EPSILON ? maxPermits : filled;
  }

  /** When the limiter is fully cold again, left idle with `stored` permits from `nextFree`. */
  #coldAt(nextFree: number, stored: number): number {
    const { maxPermits, coolDownInterval } = this.#schedule;
    return nextFree + (maxPermits - stored) * coolDownInterval;
  }

  /** Guava's `storedPermitsToWaitTime`: what taking `taken` of `stored` permits costs, in ms. */
  #storedPermitsToWaitTime(stored: number, taken: number): number {
    const { stableInterval, thresholdPermits } = this.#schedule;
    const aboveThreshold = stored - thresholdPermits;
    let wait = 0;
    if (aboveThreshold > 0) {
      const takenAbove = Math.min(aboveThreshold, taken);
      const length = this.#permitsToTime(aboveThreshold) +
        this.#permitsToTime(aboveThreshold - takenAbove);
      wait = takenAbove * length / 2;
      taken -= takenAbove;
    }
    return wait + stableInterval * taken;
  }

  /** What the stored permit `permits` above the threshold costs, in ms. */
  #permitsToTime(permits: number): number {
    return this.#schedule.stableInterval + permits * this.#schedule.slope;
  }

  /**
   * How many requests in a row would be admitted when the next free time is `budget` ms before
   * the last moment it may be, with `stored` permits: one for `budget ≥ 0`, plus one for every
   * whole permit `budget` pays for, the stored ones above the threshold first at their cost.
   */
  #admissionsWithin(budget: number, stored: number): number {
    const { stableInterval, thresholdPermits, slope } = this.#schedule;
    const allowance = budget + EPSILON * stableInterval;
    if (allowance < 0) return 0;
    const above = Math.max(0, stored - thresholdPermits);
    const aboveCost = above * (stableInterval + slope * above / 2);
    let permits: number;
    if (allowance >= aboveCost) {
      permits = above + (allowance - aboveCost) / stableInterval;
    } else {
      // The cost of x permits from the top is x·(first − slope·x/2); solved for x.
      const first = stableInterval + slope * above;
      permits = 2 * allowance / (first + Math.sqrt(first * first - 2 * slope * allowance));
    }
    return Math.floor(permits + EPSILON) + 1;
  }
}

/**
 * Builds a `warm-up` limiter: cold at `now`, or as `saved` left it. A saved state storing more
 * permits than the settings allow (saved under other settings) stores the most they allow.
 */
export const warmUp: LimiterFactory = (settings, now, saved) => {
  requireCapacity(settings);
  requireSetting(settings, "rate", 0, true);
  requireSetting(settings, "warmUpPeriod", 0, false);
  requireSetting(settings, "coldFactor", 1, false);
  const schedule = scheduleOf(settings);
  const fields = savedBy(saved, "warm-up");
  const stored = fields && savedNumber(fields, "storedPermits");
  const nextFree = fields && savedNumber(fields, "nextFree");
  if (stored === undefined || nextFree === undefined) {
    return new WarmUp(settings, schedule, schedule.maxPermits, now);
  }
  return new WarmUp(settings, schedule, Math.min(stored, schedule.maxPermits), nextFree);
};

/**
 * `leaky-bucket`, for shaping traffic as nginx's `limit_req` with a `burst` does: requests join
 * a queue of at most `capacity` that drains at `rate` per second. An admitted request waits
 * (its `delay`) until its turn, so admitted requests go on evenly spaced, one every
 * `1000 / rate` ms; a request that finds the queue full is refused.
 *
 * The state is one clock time: when the queue will be empty, which is also when the next
 * request admitted would go on. The number of requests queued at `now` is the time until then
 * divided by the interval between two requests, fractions included.
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

class LeakyBucket extends DecidingLimiter {
  readonly #capacity: number;
  readonly #interval: number;
  /** When the queue is empty: when the next request admitted would go on. */
  #emptyAt: number;

  constructor(settings: LimiterSettings, emptyAt: number) {
    super(settings);
    this.#capacity = settings.capacity;
    this.#interval = 1000 / settings.rate;
    this.#emptyAt = emptyAt;
  }

  override idleFrom(): number {
    return this.#emptyAt;
  }

  override save(): LimiterState {
    return { kind: STATE_KINDS["leaky-bucket"], v: STATE_VERSION, emptyAt: this.#emptyAt };
  }

  /** Queues `count` more requests, past `capacity` when need be. */
  override charge(count: number, now: number): void {
    this.#emptyAt = Math.max(this.#emptyAt, now) + count * this.#interval;
  }

  protected override decide(now: number, commit: boolean): Decision {
    const wait = Math.max(0, this.#emptyAt - now);
    if (wait / this.#interval + 1 > this.#capacity + EPSILON) {
      return refused(wait - (this.#capacity - 1) * this.#interval, wait);
    }
    const emptyAt = Math.max(this.#emptyAt, now) + this.#interval;
    if (commit) this.#emptyAt = emptyAt;
    const drainTime = emptyAt - now;
    const room = this.#capacity - drainTime / this.#interval;
    return admitted(wait, Math.max(0, Math.floor(room + EPSILON)), drainTime);
  }
}

/** Builds a `leaky-bucket` limiter: empty at `now`, or as `saved` left it. */
export const leakyBucket: LimiterFactory = (settings, now, saved) => {
  requireCapacity(settings);
  requireSetting(settings, "rate", 0, true);
  const fields = savedBy(saved, "leaky-bucket");
  const emptyAt = fields && savedNumber(fields, "emptyAt");
  return new LeakyBucket(settings, emptyAt ?? now);
};

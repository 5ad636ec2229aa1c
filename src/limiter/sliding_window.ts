/**
 * `sliding-window`: a true sliding log. It admits at most `capacity` requests in any span of
 * `window` ms: a request admitted at time `s` counts against every request until `s + window`
 * and no longer, so a request exactly `window` ms after the oldest one counted is admitted.
 *
 * The log keeps the times of the requests admitted, oldest first, in a ring that never holds
 * more than `capacity` of them: once it is full every one of them still counts, since the
 * request that would have made it overflow was refused. The ring starts small and doubles up to
 * `capacity` as needed, so a large capacity costs memory only when it is used. A clock that
 * steps back is taken as standing still: the request is logged at the newest time logged.
 * A limiter that never admitted anything is idle from the moment it was built.
 * @module
 */
import {
  admitted,
  DecidingLimiter,
  type LimiterFactory,
  refused,
  requireCapacity,
  requireSetting,
  savedAscending,
  savedBy,
  STATE_KINDS,
  STATE_VERSION,
} from "./_shared.ts";
import type { Decision, LimiterSettings, LimiterState } from "./types.ts";

const SMALLEST_RING = 16;

class SlidingWindow extends DecidingLimiter {
  readonly #capacity: number;
  readonly #window: number;
  readonly #builtAt: number;
  /** The times logged, oldest first from `#oldest`, wrapping around. */
  #ring: Float64Array;
  #oldest = 0;
  #logged = 0;

  constructor(settings: LimiterSettings, builtAt: number, times: readonly number[]) {
    super(settings);
    this.#capacity = settings.capacity;
    this.#window = settings.window;
    this.#builtAt = builtAt;
    const kept = times.length > this.#capacity ? times.slice(-this.#capacity) : times;
    this.#ring = new Float64Array(Math.min(this.#capacity, Math.max(SMALLEST_RING, kept.length)));
    this.#ring.set(kept);
    this.#logged = kept.length;
  }

  override idleFrom(): number {
    return this.#logged === 0 ? this.#builtAt : this.#at(this.#logged - 1) + this.#window;
  }

  override save(): LimiterState {
    const times: number[] = [];
    for (let i = 0; i < this.#logged; i++) times.push(this.#at(i));
    return { kind: STATE_KINDS["sliding-window"], v: STATE_VERSION, times };
  }

  /** The `i`-th time logged, oldest first. */
  #at(i: number): number {
    let slot = this.#oldest + i;
    if (slot >= this.#ring.length) slot -= this.#ring.length;
    return this.#ring[slot]!;
  }

  /** How many of the oldest times logged no longer count at `now`. */
  #expiredAt(now: number): number {
    let expired = 0;
    while (expired < this.#logged && this.#at(expired) + this.#window <= now) expired++;
    return expired;
  }

  /**
   * Logs `count` requests at `now` (or the newest time logged). The log never holds more than
   * `capacity` times: beyond that the oldest go, as the newest `capacity` keep it refusing longest.
   */
  override charge(count: number, now: number): void {
    const newest = this.#logged === 0 ? now : this.#at(this.#logged - 1);
    const loggedAt = Math.max(newest, now);
    this.#forget(this.#expiredAt(now));
    for (let i = 0; i < Math.min(count, this.#capacity); i++) {
      if (this.#logged === this.#capacity) this.#forget(1);
      this.#log(loggedAt);
    }
  }

  protected override decide(now: number, commit: boolean): Decision {
    const expired = this.#expiredAt(now);
    const counted = this.#logged - expired;
    const newest = this.#logged === 0 ? now : this.#at(this.#logged - 1);
    if (counted >= this.#capacity) {
      return refused(this.#at(expired) + this.#window - now, newest + this.#window - now);
    }
    const loggedAt = Math.max(newest, now);
    if (commit) {
      this.#forget(expired);
      this.#log(loggedAt);
    }
    return admitted(0, this.#capacity - counted - 1, loggedAt + this.#window - now);
  }

  #forget(expired: number): void {
    this.#logged -= expired;
    this.#oldest += expired;
    if (this.#oldest >= this.#ring.length) this.#oldest -= this.#ring.length;
  }

  #log(time: number): void {
    if (this.#logged === this.#ring.length) this.#grow();
    let slot = this.#oldest + this.#logged;
    if (slot >= this.#ring.length) slot -= this.#ring.length;
    this.#ring[slot] = time;
    this.#logged++;
  }

  /** Doubles the ring, up to `capacity`, laying the times out oldest first. */
  #grow(): void {
    const ring = new Float64Array(Math.min(this.#capacity, this.#ring.length * 2));
    for (let i = 0; i < this.#logged; i++) ring[i] = this.#at(i);
    this.#ring = ring;
    this.#oldest = 0;
  }
}

/**
 * Builds a `sliding-window` limiter: empty at `now`, or with the times `saved` logged. Of a
 * saved log longer than `capacity` (saved under a larger capacity) the newest `capacity` times
 * are kept.
 */
export const slidingWindow: LimiterFactory = (settings, now, saved) => {
  requireCapacity(settings);
  requireSetting(settings, "window", 0, true);
  const fields = savedBy(saved, "sliding-window");
  const times = fields && savedAscending(fields, "times");
  return new SlidingWindow(settings, now, times ?? []);
};

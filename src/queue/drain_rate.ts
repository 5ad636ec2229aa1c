/**
 * How fast a line drains: requests leaving it per second, measured as an exponentially decayed
 * count over the equally decayed span of time since the first departure, so that a steady rate
 * reads about right after a few departures; when departures stop, the rate falls as time passes.
 * @module
 */

/** Departures per second, weighted towards the last `halfLife` ms or so. */
export class DrainRate {
  readonly #tau: number;
  /** Decayed count of departures, as of `#at`. */
  #count = 0;
  #at = 0;
  #first: number | undefined;

  /** Departures `halfLife` ms older than now count half as much. @default 10 s */
  constructor(halfLife = 10_000) {
    if (!(halfLife > 0)) throw new RangeError(`halfLife must be positive, got ${halfLife}`);
    this.#tau = halfLife / Math.LN2;
  }

  /** A request left the line at clock time `now` (ms). */
  left(now: number): void {
    this.#first ??= now;
    this.#count = this.#count * Math.exp(-Math.max(0, now - this.#at) / this.#tau) + 1;
    this.#at = Math.max(this.#at, now);
  }

  /** Departures per second as of `now`; undefined before the first. */
  perSecond(now: number): number | undefined {
    if (this.#first === undefined) return undefined;
    const count = this.#count * Math.exp(-Math.max(0, now - this.#at) / this.#tau);
    // The weight every instant since the first departure had: the span the count covers.
    const span = this.#tau * (1 - Math.exp(-Math.max(0, now - this.#first) / this.#tau));
    // The first departure alone spans no time yet: count it over one millisecond at least.
    return (count / Math.max(span, 1)) * 1000;
  }
}

/**
 * An average whose samples lose weight with time rather than with count: a sample `dt` ms
 * older than the newest counts `exp(-dt / tau)` as much. Bursts and trickles of samples thus
 * give the same smoothing over the same span of time.
 * @module
 */

/** A time-decayed average of samples; `undefined` until the first. */
export class DecayingAverage {
  #value: number | undefined;
  #at = 0;
  readonly #tau: number;

  /** Samples `halfLife` ms older than the newest count half as much. */
  constructor(halfLife: number) {
    if (!(halfLife > 0)) throw new RangeError(`halfLife must be positive, got ${halfLife}`);
    this.#tau = halfLife / Math.LN2;
  }

  /** The average, or `undefined` before any sample. */
  get value(): number | undefined {
    return this.#value;
  }

  /** Clock time (ms) of the newest sample; 0 before any. */
  get at(): number {
    return this.#at;
  }

  /** Adds a sample taken at clock time `now` (ms). */
  add(sample: number, now: number): void {
    if (this.#value === undefined) {
      this.#value = sample;
      this.#at = now;
      return;
    }
    const elapsed = Math.max(0, now - this.#at);
    const kept = Math.exp(-elapsed / this.#tau);
    this.#value = this.#value * kept + sample * (1 - kept);
    this.#at = Math.max(this.#at, now);
  }

  /** Forgets every sample. */
  reset(): void {
    this.#value = undefined;
    this.#at = 0;
  }
}

/**
 * `max-concurrency: auto`: how many requests an instance may have in flight, found from how it
 * answers rather than configured, for engines that report no load of their own.
 *
 * The limit grows by one for each window of as many good answers as the limit, while the
 * instance uses at least half of it and, for a streamed answer, its time to first token stays
 * within {@linkcode TOLERANCE} times the lowest seen (the engine keeps up). Time to first token
 * is taken per prompt token (a prompt shorter than {@linkcode PROMPT_FLOOR} tokens counting as
 * that many): a long prompt takes longer to read in even on an idle engine, and that is not
 * queueing. It shrinks,
 * smoothly, in proportion to how far time to first token rises above that (requests queue
 * inside the engine). A 429 or 503 from the engine cuts it by {@linkcode CUT} at once — once
 * per window: answers to requests sent before a cut do not cut it again.
 * @module
 */

/** The range an adaptive limit moves in, and where it starts. */
export interface ConcurrencyBounds {
  readonly min: number;
  readonly max: number;
  /** The limit before the instance has answered anything; clamped into the range. */
  readonly initial: number;
}

/** The bounds where `max-concurrency-min` and `-max` are not set, and the start. */
export const DEFAULT_BOUNDS: ConcurrencyBounds = { min: 1, max: 256, initial: 4 };

/**
 * The fewest prompt tokens time to first token is divided by: below it, a request's fixed costs
 * (the connection, scheduling) outweigh reading the prompt in.
 */
export const PROMPT_FLOOR = 64;

/** Time to first token up to this many times the lowest seen counts as the engine keeping up. */
export const TOLERANCE = 2;
/** What an overload answer (429, 503) leaves of the limit. */
export const CUT = 0.75;
/** The weight of one sample in the smoothed shrinking. */
const SMOOTHING = 0.2;
/** The most one sample can shrink the limit's target to, as a share. */
const LOWEST_GRADIENT = 0.5;
/**
 * How far each sample pulls the lowest time to first token towards itself when above it: an
 * engine that became slower for good (longer prompts, another model) is a new normal after a
 * few hundred answers.
 */
const DRIFT = 0.002;

/** The adaptive concurrency limit of one instance; kept across config changes. */
export class AdaptiveConcurrency {
  #bounds: ConcurrencyBounds;
  #limit: number;
  /** The lowest time to first token seen (ms), slowly forgotten; undefined before any. */
  #baseline: number | undefined;
  /** Samples that allowed growth since the limit last grew or was cut. */
  #steady = 0;
  #epoch = 0;

  constructor(bounds: ConcurrencyBounds) {
    this.#bounds = bounds;
    this.#limit = clamp(bounds.initial, bounds);
  }

  /** Requests the instance may have in flight now: at least 1. */
  get limit(): number {
    return Math.floor(this.#limit);
  }

  /** Counts the cuts so far; a request keeps the count it was sent at for {@linkcode overloaded}. */
  get epoch(): number {
    return this.#epoch;
  }

  /** Takes new bounds (a config change), keeping the limit found so far within them. */
  configure(bounds: ConcurrencyBounds): void {
    this.#bounds = bounds;
    this.#limit = clamp(this.#limit, bounds);
  }

  /**
   * The instance gave a first token `ms` after the request was sent, with `inFlight` requests
   * in flight at the time, for a prompt of about `promptTokens` tokens.
   */
  firstToken(elapsed: number, inFlight: number, promptTokens = 0): void {
    if (!(elapsed >= 0)) return;
    const ms = elapsed / Math.max(PROMPT_FLOOR, promptTokens);
    const baseline = this.#baseline === undefined || ms < this.#baseline
      ? ms
      : this.#baseline + (ms - this.#baseline) * DRIFT;
    this.#baseline = baseline;
    const gradient = ms === 0
      ? 1
      : Math.max(LOWEST_GRADIENT, Math.min(1, TOLERANCE * baseline / ms));
    if (gradient < 1) {
      const target = this.#limit * gradient;
      this.#limit = clamp(this.#limit * (1 - SMOOTHING) + target * SMOOTHING, this.#bounds);
      this.#steady = 0;
      return;
    }
    this.answered(inFlight);
  }

  /**
   * The instance answered well, with `inFlight` requests in flight, where no time to first
   * token tells how it kept up (a whole answer, whose time includes its generation): a step of
   * growth, as a steady time to first token is.
   */
  answered(inFlight: number): void {
    if (inFlight * 2 < this.#limit) return;
    if (++this.#steady >= this.limit) {
      this.#steady = 0;
      this.#limit = clamp(this.limit + 1, this.#bounds);
    }
  }

  /**
   * The instance answered 429 or 503 to a request sent at `epoch`: cut, unless a cut since
   * then already answered for it.
   */
  overloaded(epoch: number): void {
    if (epoch !== this.#epoch) return;
    this.#epoch++;
    this.#steady = 0;
    this.#limit = clamp(this.#limit * CUT, this.#bounds);
  }
}

function clamp(limit: number, { min, max }: ConcurrencyBounds): number {
  return Math.min(max, Math.max(min, limit));
}

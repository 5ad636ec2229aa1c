/**
 * `token-bucket`: a bucket holds up to `capacity` tokens and refills continuously at `rate`
 * tokens per second, fractions included. A request takes one token and goes on at once; with
 * less than one token in the bucket it is refused and takes nothing. A new bucket is full, so
 * it admits a burst of `capacity` requests at once, then `rate` per second.
 *
 * The state is the number of tokens at the last time the bucket was drawn from; the tokens at
 * any later time follow from the rate. A clock that steps back is taken as standing still.
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

class TokenBucket extends DecidingLimiter {
  readonly #capacity: number;
  readonly #msPerToken: number;
  #tokens: number;
  #updatedAt: number;

  constructor(settings: LimiterSettings, tokens: number, updatedAt: number) {
    super(settings);
    this.#capacity = settings.capacity;
    this.#msPerToken = 1000 / settings.rate;
    this.#tokens = tokens;
    this.#updatedAt = updatedAt;
  }

  override idleFrom(): number {
    return this.#updatedAt + (this.#capacity - this.#tokens) * this.#msPerToken;
  }

  override save(): LimiterState {
    return {
      kind: STATE_KINDS["token-bucket"],
      v: STATE_VERSION,
      // A debt taken from other gateways' use is not kept across a restart.
      tokens: Math.max(0, this.#tokens),
      updatedAt: this.#updatedAt,
    };
  }

  /** The tokens in the bucket at `now`; within drift of full counts as full. */
  #tokensAt(now: number): number {
    if (now <= this.#updatedAt) return this.#tokens;
    const tokens = this.#tokens + (now - this.#updatedAt) / this.#msPerToken;
    return tokens >= this.#capacity - EPSILON ? this.#capacity : tokens;
  }

  /** Takes `count` tokens, into debt when need be: the bucket refills from there. */
  override charge(count: number, now: number): void {
    this.#tokens = this.#tokensAt(now) - count;
    this.#updatedAt = Math.max(this.#updatedAt, now);
  }

  protected override decide(now: number, commit: boolean): Decision {
    const tokens = this.#tokensAt(now);
    if (tokens < 1 - EPSILON) {
      return refused((1 - tokens) * this.#msPerToken, (this.#capacity - tokens) * this.#msPerToken);
    }
    const left = Math.max(0, tokens - 1);
    if (commit) {
      this.#tokens = left;
      this.#updatedAt = Math.max(this.#updatedAt, now);
    }
    return admitted(0, Math.floor(left + EPSILON), (this.#capacity - left) * this.#msPerToken);
  }
}

/**
 * Builds a `token-bucket` limiter: full at `now`, or as `saved` left it. A saved bucket holding
 * more than `capacity` tokens (saved under a larger capacity) holds `capacity`.
 */
export const tokenBucket: LimiterFactory = (settings, now, saved) => {
  requireCapacity(settings);
  requireSetting(settings, "rate", 0, true);
  const fields = savedBy(saved, "token-bucket");
  const tokens = fields && savedNumber(fields, "tokens");
  const updatedAt = fields && savedNumber(fields, "updatedAt");
  if (tokens === undefined || updatedAt === undefined) {
    return new TokenBucket(settings, settings.capacity, now);
  }
  return new TokenBucket(settings, Math.min(tokens, settings.capacity), updatedAt);
};

/**
 * What the gateway has measured of one instance's speed and reliability, as the
 * performance-aware strategies read it: decaying averages of its time to first token, of its
 * time per output token, and of its success rate.
 * @module
 */
import { DecayingAverage } from "../lib/decaying_average.ts";

/** Samples this old (ms) count half as much as the newest. */
export const PERFORMANCE_HALF_LIFE = 10_000;

/** An instance's measured performance. */
export class InstancePerformance {
  /**
   * ms from sending a request to its first token: a stream's first event, or the head of a
   * whole answer (its first token as the client sees it).
   */
  readonly firstToken: DecayingAverage;
  /** ms per output token after the first, over streams. */
  readonly perToken: DecayingAverage;
  /** 1 for an answer the backend gave well, 0 for a failure. */
  readonly success: DecayingAverage;
  /** Requests whose time to first token was measured since start or reset. */
  samples = 0;

  constructor(halfLife: number = PERFORMANCE_HALF_LIFE) {
    this.firstToken = new DecayingAverage(halfLife);
    this.perToken = new DecayingAverage(halfLife);
    this.success = new DecayingAverage(halfLife);
  }

  /** A request's first token came `ms` after it was sent. */
  firstTokenAfter(ms: number, now: number): void {
    this.firstToken.add(ms, now);
    this.samples++;
  }

  /** A stream gave `tokens` output tokens over `ms` after its first. */
  generated(tokens: number, ms: number, now: number): void {
    if (tokens > 0) this.perToken.add(ms / tokens, now);
  }

  /** The backend answered well (`true`) or failed. */
  outcome(succeeded: boolean, now: number): void {
    this.success.add(succeeded ? 1 : 0, now);
  }

  /** Forgets every measurement. */
  reset(): void {
    this.firstToken.reset();
    this.perToken.reset();
    this.success.reset();
    this.samples = 0;
  }
}

/**
 * What the proxy reports of one request as it goes: the body read, the pool found, each pick,
 * wait, attempt and backend call, the body answered or relayed, and a fallback. The request's
 * record (metrics and the request line) implements it, and traces wrap the record when
 * OpenTelemetry is on; the proxy knows neither.
 * @module
 */
import type { TokenReservation } from "../limiter/token_limits.ts";
import type { LimitObserver } from "../limiter/admission.ts";
import type { CallOutcome } from "./call_outcome.ts";
import type { Upstream } from "../registry/snapshot.ts";
import type { StreamTap, TappedBody } from "./stream_tap.ts";

/** What the proxy reports of one request. */
export interface ProxyObserver extends LimitObserver {
  /** Attempts made so far. */
  readonly attempts: number;
  /** Whether backends get the trace context of each attempt (and not the client's). */
  readonly traced: boolean;
  /** The body was read: its size and the model it names. */
  bodyRead(model: string, body: Uint8Array): void;
  /** The model resolved to a pool, or to none. */
  resolved(pool: string | undefined): void;
  /** The load balancer picked `upstream` for the next attempt. */
  picked(upstream: Upstream, strategy: string): void;
  /** The request waited `ms` in its model's queue. */
  queued(ms: number): void;
  /**
   * An attempt at `upstream` is about to be sent: what watches it, if anything does (a trace
   * span, whose context goes to the backend).
   */
  attemptStarted(upstream: Upstream): AttemptObservation | undefined;
  /** A call to `upstream` ended in `outcome` after `ms` (to its response headers). */
  backendCall(upstream: Upstream, outcome: CallOutcome, ms: number): void;
  /** The whole answer, read into memory. */
  bodyAnswered(body: Uint8Array): void;
  /** A tap for a body relayed chunk by chunk. */
  tap(kind: TappedBody): StreamTap;
  /** The relayed body ended, as `end` says. */
  tapEnded(end: BodyEnd): void;
  /**
   * Settles the request's use before its answer (of `status`) ends, when the answer is whole:
   * true then; false while a relayed body is still going (its relay asks again at its end).
   */
  answerWhole(status: number): boolean;
  /** A fallback answered: `cache`, or the model that did. */
  fellBack(fallback: string): void;
  /**
   * The request reserved tokens in token limits: its answer's `usage` is read, and settles
   * them when the request ends.
   */
  reservedTokens(reservation: TokenReservation): void;
}

/**
 * How the answer to the client ended: `complete`, the client left (`client_closed`), the
 * backend broke off its body (`upstream_broken`) or went quiet past the idle timeout
 * (`timeout`), or the gateway stopped it at the end of its shutdown grace period (`shutdown`).
 */
export type BodyEnd = "complete" | "client_closed" | "upstream_broken" | "timeout" | "shutdown";

/** One attempt as something watches it. */
export interface AttemptObservation {
  /** Headers the attempt's request carries, such as its trace context. */
  readonly headers: readonly (readonly [string, string])[];
  /** The attempt ended in `outcome`; called once, when its lease settles. */
  ended(outcome: CallOutcome): void;
}

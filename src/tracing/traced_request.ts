/**
 * A request's record with OpenTelemetry spans on top: the request's server span names what the
 * request was for, each attempt is a client span of its own, and the backend gets that span's
 * trace context.
 * @module
 */
import type { CallOutcome } from "../observe/call_outcome.ts";
import type { AttemptObservation, BodyEnd, ProxyObserver } from "../observe/proxy_observer.ts";
import type { RequestRecord } from "../observe/request_record.ts";
import type { StreamTap, TappedBody } from "../observe/stream_tap.ts";
import type { Upstream } from "../registry/snapshot.ts";
import type { LimitResult } from "../limiter/admission.ts";
import type { LimitScope } from "../limiter/types.ts";
import type { TokenReservation } from "../limiter/token_limits.ts";
import { annotateRequest, endAttemptSpan, startAttemptSpan, traceContextHeaders } from "./spans.ts";

/** The proxy's observer when tracing is on: `record` does the rest. */
export class TracedRequest implements ProxyObserver {
  readonly traced = true;
  readonly #record: RequestRecord;

  constructor(record: RequestRecord) {
    this.#record = record;
  }

  get attempts(): number {
    return this.#record.attempts;
  }

  rateLimit(scope: LimitScope, result: LimitResult): void {
    this.#record.rateLimit(scope, result);
  }

  bodyRead(model: string, body: Uint8Array): void {
    this.#record.bodyRead(model, body);
  }

  resolved(pool: string | undefined): void {
    const record = this.#record;
    record.resolved(pool);
    record.traceId = annotateRequest({
      "switchyard.service": record.service,
      "switchyard.request_id": record.requestId,
      "gen_ai.request.model": record.requestedModel ?? "",
    });
  }

  picked(upstream: Upstream, strategy: string): void {
    const record = this.#record;
    record.picked(upstream, strategy);
    annotateRequest({
      "switchyard.instance": upstream.id,
      "switchyard.retries": Math.max(0, record.attempts - 1),
    });
  }

  queued(ms: number): void {
    this.#record.queued(ms);
  }

  attemptStarted(upstream: Upstream): AttemptObservation {
    const span = startAttemptSpan(upstream.id, {
      "switchyard.instance": upstream.id,
      "switchyard.attempt": this.#record.attempts,
      "url.full": upstream.url,
    });
    return {
      headers: traceContextHeaders(span),
      ended: (outcome: CallOutcome) => endAttemptSpan(span, outcome),
    };
  }

  backendCall(upstream: Upstream, outcome: CallOutcome, ms: number): void {
    this.#record.backendCall(upstream, outcome, ms);
  }

  reservedTokens(reservation: TokenReservation): void {
    this.#record.reservedTokens(reservation);
  }

  bodyAnswered(body: Uint8Array): void {
    this.#record.bodyAnswered(body);
  }

  tap(kind: TappedBody): StreamTap {
    return this.#record.tap(kind);
  }

  tapEnded(end: BodyEnd): void {
    this.#record.tapEnded(end);
  }

  answerWhole(status: number): boolean {
    return this.#record.answerWhole(status);
  }

  fellBack(fallback: string): void {
    this.#record.fellBack(fallback);
  }
}

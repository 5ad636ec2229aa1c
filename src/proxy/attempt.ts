/**
 * One attempt: send a request to one instance and decide what its answer means. The answer is
 * final (relayed to the client), or a failure another instance may be asked to repair. The
 * instance's counters, breaker and outlier record settle exactly once however it ends.
 * @module
 */
import { GatewayError } from "../errors.ts";
import { recordFailure as recordOutlierFailure, recordSuccess } from "../health/outlier.ts";
import type { Upstream } from "../registry/snapshot.ts";
import { parseRetryAfter } from "../retry/retry_after.ts";
import type { RetrySettings } from "../retry/settings.ts";
import type { Exchange } from "./exchange.ts";
import { responseHeaders, type UpstreamHeaders } from "./headers.ts";
import type { ReachabilityCheck } from "./reachability.ts";
import type { SendUpstream } from "./send_upstream.ts";
import type { UpstreamAnswer } from "./upstream_answer.ts";
import { watchDeparture } from "./client_departure.ts";
import { scheduleDeadline } from "./deadlines.ts";
import { relayBody } from "./relay.ts";
import { armResponseDeadline, UpstreamTimeout } from "./response_deadline.ts";
import { causeChain, knownCause } from "./transport_error.ts";
import type { ServerConfig } from "../config/schema.ts";
import type { CallOutcome } from "../metrics/request_series.ts";
import type { RequestRecord } from "../observe/request_record.ts";
import { endAttemptSpan, startAttemptSpan, withinSpan } from "../tracing/spans.ts";

/** Why an attempt failed before the first byte reached the client. */
export type Failure =
  | {
    readonly kind: "response";
    /**
     * The backend's answer, read into memory (its instance already settled), kept to pass on
     * if no other instance does better.
     */
    readonly response: Response;
    /** A pattern-matched instance without the model: moving on is not a retry. */
    readonly notServed: boolean;
    /** The retry settings name this status. */
    readonly retryable: boolean;
  }
  | {
    readonly kind: "transport";
    readonly error: GatewayError;
    /** No connection could be made at all. */
    readonly unreachable: boolean;
    readonly retryable: boolean;
  }
  | { readonly kind: "client-gone" };

/** What an attempt needs besides the instance. */
export interface AttemptInput {
  readonly exchange: Exchange;
  readonly headers: UpstreamHeaders;
  /** The client's request, whose connection is watched for the client leaving. */
  readonly clientRequest: Request;
  /** Settles once the response was delivered, when the server can tell. */
  readonly delivered: Promise<void> | undefined;
  /** The instance serves the model through a `*` pattern, so a 404 means "not here". */
  readonly pattern: boolean;
  readonly retry: RetrySettings;
  readonly server: ServerConfig;
  readonly reachable: ReachabilityCheck;
  readonly send: SendUpstream;
  readonly now: () => number;
  /** What is observed of the client's request. */
  readonly record: RequestRecord;
  /** Whether attempts get spans of their own (OpenTelemetry is on). */
  readonly tracing: boolean;
}

/** The gateway's own abort reasons, told apart from errors of the request itself. */
const CLIENT_GONE = new Error("client disconnected");
const IDLE = new Error("backend went idle mid-response");

/** Sends one attempt; a `Response` is final, a `Failure` may be retried elsewhere. */
export async function attempt(
  upstream: Upstream,
  input: AttemptInput,
): Promise<Response | Failure> {
  const { exchange, headers, now, record } = input;
  const { connect, "first-byte": firstByte, idle } = input.server.timeouts;
  const state = upstream.state;
  state.active++;
  state.requests++;

  const controller = new AbortController();
  const departure = watchDeparture(input.clientRequest, () => controller.abort(CLIENT_GONE));
  let span = input.tracing
    ? startAttemptSpan(upstream.id, {
      "switchyard.instance": upstream.id,
      "switchyard.attempt": record.attempts,
      "url.full": upstream.url,
    })
    : undefined;
  let outcome: CallOutcome = "client_gone";
  let settled = false;
  const settle = () => {
    if (settled) return;
    settled = true;
    state.active--;
    departure.stop();
    for (const queue of upstream.queues) queue.wake();
    if (span) {
      endAttemptSpan(span, outcome);
      span = undefined;
    }
  };

  const answered = armResponseDeadline(controller, {
    connect,
    firstByte: firstByteDeadline(upstream, firstByte, now()),
    probe: (timeout) => input.reachable(upstream, timeout),
  });

  let answer: UpstreamAnswer;
  const sentAt = performance.now();
  const send = () =>
    input.send(upstream, { headers, body: exchange.body, signal: controller.signal });
  try {
    answer = await (span ? withinSpan(span, send) : send());
  } catch (error) {
    const failure = controller.signal.reason === CLIENT_GONE || error === CLIENT_GONE
      ? undefined
      : transportFailure(controller.signal.reason ?? error, input.retry);
    outcome = failure === undefined
      ? "client_gone"
      : failure.error.code === "upstream_timeout"
      ? "timeout"
      : "unreachable";
    settle();
    record.backendCall(upstream, outcome, performance.now() - sentAt);
    if (failure === undefined) {
      upstream.breaker?.onNeutral(now());
      return { kind: "client-gone" };
    }
    recordFailure(upstream, {
      reason: String(failure.error.cause ?? failure.error.message),
      unreachable: failure.unreachable,
    }, now());
    return failure;
  } finally {
    answered();
  }
  const latency = performance.now() - sentAt;
  state.latencySum += latency;
  state.latencyCount++;
  outcome = answer.status;
  record.backendCall(upstream, outcome, latency);
  try {
    answer = await exchange.answer(answer);
  } catch (error) {
    settle();
    await answer.cancel();
    if (controller.signal.reason === CLIENT_GONE) {
      upstream.breaker?.onNeutral(now());
      return { kind: "client-gone" };
    }
    const failure = translationFailure(error, input.retry);
    recordFailure(upstream, { reason: failure.error.message, unreachable: false }, now());
    return failure;
  }

  const relay: RelayContext = {
    settle,
    controller,
    idle,
    streamed: exchange.streamed,
    delivered: input.delivered,
    record,
  };
  const status = answer.status;
  const at = now();
  if (status >= 500) {
    recordFailure(upstream, { reason: `answered ${status}`, unreachable: false }, at);
  } else if (status === 429) {
    upstream.breaker?.onNeutral(at);
  } else {
    recordSuccess(state);
    upstream.breaker?.onSuccess(at);
  }
  const coolDown = status === 429 ? parseRetryAfter(answer.header("retry-after"), at) : undefined;
  if (coolDown !== undefined) {
    state.cooldownUntil = Math.max(state.cooldownUntil, at + coolDown);
  }
  const notServed = input.pattern && status === 404;
  const retryable = status === 429
    ? coolDown !== undefined && input.retry.statuses.has(429)
    : input.retry.statuses.has(status);
  if (status >= 500 || notServed || retryable) {
    const held = await heldCopy(answer, { ...relay, record: undefined });
    return { kind: "response", response: held, notServed, retryable };
  }
  if (!isWholeJson(answer)) return relayed(answer, relay);
  // A small JSON answer is read whole: its `usage` can be read, and a backend that breaks off
  // midway is a failure another instance may repair, not a cut answer. It has the idle timeout
  // to arrive in.
  let body: Uint8Array<ArrayBuffer>;
  const stalled = idle > 0 ? scheduleDeadline(() => controller.abort(IDLE), idle) : undefined;
  try {
    body = await answer.bytes();
  } catch (error) {
    settle();
    if (controller.signal.reason === CLIENT_GONE) return { kind: "client-gone" };
    const failure = brokenAnswer(controller.signal.reason ?? error, input.retry);
    recordFailure(upstream, { reason: failure.error.message, unreachable: false }, now());
    return failure;
  } finally {
    stalled?.cancel();
  }
  settle();
  record.bodyAnswered(body);
  return new Response(body, {
    status,
    statusText: answer.statusText,
    headers: responseHeaders(answer.headers),
  });
}

/** The largest JSON answer read whole before it is passed on. */
const MAX_WHOLE_JSON = 256 * 1024;

/** A successful JSON answer of a known, small size. */
function isWholeJson(answer: UpstreamAnswer): boolean {
  if (!answer.ok || answer.body === null) return false;
  const type = answer.header("content-type");
  if (type === null || !type.includes("json")) return false;
  const length = answer.header("content-length");
  return length !== null && Number(length) <= MAX_WHOLE_JSON;
}

/** The most of a failed answer's body kept to pass on. */
const MAX_HELD_BODY = 1024 * 1024;

/**
 * A failed answer read into memory, so that its instance settles (and frees its concurrency
 * slot, perhaps for the retry) while the answer waits to be passed on or dropped.
 */
async function heldCopy(answer: UpstreamAnswer, relay: RelayContext): Promise<Response> {
  const read = relayed(answer, { ...relay, delivered: undefined });
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of read.body ?? []) {
      size += chunk.byteLength;
      if (size > MAX_HELD_BODY) break;
      chunks.push(chunk);
    }
  } catch {
    // The body broke off: what arrived is kept.
  }
  const headers = new Headers(read.headers);
  headers.delete("content-length");
  return new Response(chunks.length === 0 ? null : new Blob(chunks as BlobPart[]), {
    status: answer.status,
    statusText: answer.statusText,
    headers,
  });
}

/**
 * The first-byte timeout of an attempt. A half-open breaker's probe always has one, so that a
 * probe that hangs cannot hold the breaker's probe slot for good: with the timeout off, it is
 * the breaker's own `timeout`.
 */
function firstByteDeadline(upstream: Upstream, firstByte: number, now: number): number {
  if (firstByte > 0 || upstream.breaker?.status(now) !== "half-open") return firstByte;
  return Math.max(1, upstream.breaker.settings.timeout);
}

/** How to hand a backend's response to the client. */
interface RelayContext {
  readonly settle: () => void;
  readonly controller: AbortController;
  readonly idle: number;
  /** The client asked for a stream. */
  readonly streamed: boolean;
  readonly delivered: Promise<void> | undefined;
  /** Where a relayed body is observed; none for an answer held back. */
  readonly record: RequestRecord | undefined;
}

/**
 * The client-facing response: the backend's status and headers, and its body. A stream (SSE,
 * NDJSON, audio, or anything the client asked to stream) goes through the relay, which watches
 * the gap between chunks (unless the idle timeout is off) and lets the record see each chunk;
 * so does a body of unknown length. Any other body is handed to the server as it is, without
 * the relay, and the instance settles when the server reports it delivered.
 */
function relayed(answer: UpstreamAnswer, options: RelayContext): Response {
  const init = {
    status: answer.status,
    statusText: answer.statusText,
    headers: responseHeaders(answer.headers),
  };
  const answerBody = answer.body;
  if (answerBody === null) {
    options.settle();
    return new Response(null, init);
  }
  const contentType = answer.header("content-type");
  const streamed = options.streamed || isStream(contentType);
  if (options.delivered && !streamed && answer.header("content-length") !== null) {
    options.delivered.then(options.settle, options.settle);
    return new Response(answerBody, init);
  }
  const tap = options.record?.tap(
    contentType?.startsWith("text/event-stream")
      ? "sse"
      : streamed
      ? "stream"
      : contentType?.includes("json")
      ? "json"
      : "other",
  );
  const record = options.record;
  const body = relayBody(answer.stream()!, {
    idleTimeout: options.idle,
    onIdle: () => options.controller.abort(IDLE),
    onCancel: () => options.controller.abort(CLIENT_GONE),
    onChunk: tap ? (chunk) => tap.chunk(chunk) : undefined,
    onEnd: () => {
      options.settle();
      record?.tapEnded();
    },
  });
  return new Response(body, init);
}

/** Content types whose bodies arrive over time, chunk by chunk. */
export function isStream(contentType: string | null): boolean {
  if (contentType === null) return false;
  return contentType.startsWith("text/event-stream") ||
    contentType.startsWith("application/x-ndjson") || contentType.startsWith("audio/");
}

type TransportFailure = Failure & { kind: "transport" };

/** The backend's answer could not be translated for the client. */
function translationFailure(error: unknown, retry: RetrySettings): TransportFailure {
  const gatewayError = error instanceof GatewayError
    ? error
    : new GatewayError(502, "bad_backend_answer", "The backend's answer could not be read", {
      cause: error,
    });
  return {
    kind: "transport",
    error: gatewayError,
    unreachable: false,
    retryable: gatewayError.status >= 500 && retry.statuses.has(gatewayError.status),
  };
}

/** The backend broke off, or stopped sending, a successful answer before it was whole. */
function brokenAnswer(reason: unknown, retry: RetrySettings): TransportFailure {
  const timedOut = reason === IDLE;
  const status = timedOut ? 504 : 502;
  return {
    kind: "transport",
    error: new GatewayError(
      status,
      timedOut ? "upstream_timeout" : "upstream_broken_answer",
      `The backend ${timedOut ? IDLE.message : "broke off its answer midway"}`,
      { cause: timedOut ? undefined : causeChain(reason) },
    ),
    unreachable: false,
    retryable: retry.statuses.has(status),
  };
}

/** A failure to get an answer: connection errors are always retried, timeouts as 504s. */
function transportFailure(reason: unknown, retry: RetrySettings): TransportFailure {
  if (reason instanceof UpstreamTimeout) {
    const unreachable = reason.phase === "connect";
    return {
      kind: "transport",
      error: new GatewayError(504, "upstream_timeout", `The backend ${reason.message}`),
      unreachable,
      retryable: unreachable || retry.statuses.has(504),
    };
  }
  const detail = causeChain(reason);
  const known = knownCause(detail);
  return {
    kind: "transport",
    error: new GatewayError(
      502,
      "upstream_unreachable",
      `The backend could not be reached${known ? ` (${known})` : ""}`,
      { cause: detail },
    ),
    unreachable: true,
    retryable: true,
  };
}

/** Counts a failed attempt: it may open the breaker or eject the instance. */
function recordFailure(
  upstream: Upstream,
  failure: { readonly reason: string; readonly unreachable: boolean },
  now: number,
): void {
  upstream.state.failures++;
  upstream.state.lastError = { message: failure.reason, at: new Date(now).toISOString() };
  upstream.breaker?.onFailure(now);
  recordOutlierFailure(upstream.state, failure, {
    settings: upstream.outlier,
    health: upstream.backend.health,
    now,
  });
}

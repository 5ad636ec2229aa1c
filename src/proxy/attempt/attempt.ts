/**
 * One attempt: send a request to a claimed instance and decide what its answer means. The
 * answer is final (relayed to the client), or a failure another instance may be asked to
 * repair. What the attempt says of the backend goes to the lease; the lease settles the rest.
 * @module
 */
import type { ServerConfig } from "../../config/schema.ts";
import type { ErrorDialect } from "../../errors.ts";
import { scheduleDeadline } from "../../lib/deadlines.ts";
import type { CallOutcome } from "../../observe/call_outcome.ts";
import type { ProxyObserver } from "../../observe/proxy_observer.ts";
import type { Upstream } from "../../registry/snapshot.ts";
import { parseRetryAfter } from "../../retry/retry_after.ts";
import type { RetrySettings } from "../../retry/settings.ts";
import type { Transport } from "../../transport/transport.ts";
import type { UpstreamAnswer } from "../../transport/upstream_answer.ts";
import { watchDeparture } from "./client_departure.ts";
import type { Exchange } from "../exchange.ts";
import type { UpstreamHeaders } from "../request/upstream_headers.ts";
import {
  CLIENT_GONE,
  clientResponse,
  heldCopy,
  isEventStream,
  isWholeJson,
  type RelayContext,
  relayed,
} from "../respond/client_response.ts";
import { type FirstEvent, readFirstEvent } from "../respond/first_event.ts";
import type { StartedBody } from "../respond/relay.ts";
import {
  badAnswer,
  brokenAnswer,
  errorEvent,
  type Failure,
  FirstByteTimeout,
  FirstTokenTimeout,
  IdleTimeout,
  sendFailure,
  type TransportFailure,
} from "./failure.ts";
import type { AttemptsInFlight } from "./attempts_in_flight.ts";
import type { UpstreamLease } from "./lease.ts";

export type { Failure } from "./failure.ts";

/** What an attempt needs besides its lease. */
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
  readonly transport: Transport;
  /** Where the attempt is tracked while its backend request is open. @default untracked */
  readonly inFlight?: AttemptsInFlight | undefined;
  /** The prompt's estimated tokens, which the adaptive limit weighs time to first token by. */
  readonly promptTokens?: number;
  readonly now: () => number;
  /** What is observed of the client's request. */
  readonly record: ProxyObserver;
  /** How the client's API words an error event that ends a cut stream. */
  readonly errors: ErrorDialect;
  /** Stores the request's use, when it counts against a budget: a relayed end waits for it. */
  readonly storeUse?: (() => Promise<void>) | undefined;
}

const GONE: Failure = { kind: "client-gone" };

/**
 * Sends one attempt on `lease`; a `Response` is final, a `Failure` may be retried elsewhere.
 * A response whose body is still arriving takes the lease along and settles it at its end.
 */
export async function attempt(
  lease: UpstreamLease,
  input: AttemptInput,
): Promise<Response | Failure> {
  const { upstream } = lease;
  const { exchange, now, record } = input;
  const { connect, "first-byte": firstByte, "first-token": firstToken, idle } =
    input.server.timeouts;

  const controller = new AbortController();
  const departure = watchDeparture(input.clientRequest, () => controller.abort(CLIENT_GONE));
  lease.use(departure);
  if (input.inFlight) lease.use(input.inFlight.track(controller));
  let outcome: CallOutcome = "client_gone";
  const observation = record.attemptStarted(upstream);
  if (observation) lease.use({ [Symbol.dispose]: () => observation.ended(outcome) });

  // A stream's first event must arrive within `first-token` of sending, head or no head. A
  // head later than that brings no token in time either: the first-byte deadline is left out
  // when it would not fire sooner, so that a stream arms no more deadlines than an answer.
  const noFirstToken = exchange.streamed && firstToken > 0
    ? scheduleDeadline(() => controller.abort(new FirstTokenTimeout(firstToken)), firstToken)
    : undefined;
  if (noFirstToken) lease.use(noFirstToken);
  const firstByteMs = firstByteDeadline(upstream, firstByte, now());
  const noAnswer = firstByteMs > 0 && (noFirstToken === undefined || firstByteMs < firstToken)
    ? scheduleDeadline(() => controller.abort(new FirstByteTimeout(firstByteMs)), firstByteMs)
    : undefined;
  const sentAt = performance.now();
  // An overload answer cuts an adaptive limit only if no cut came after the request was sent.
  const epoch = upstream.concurrency?.epoch ?? 0;
  let answer: UpstreamAnswer;
  try {
    answer = await input.transport.send(upstream, {
      method: "POST",
      headers: observation ? new Map([...input.headers, ...observation.headers]) : input.headers,
      body: exchange.body,
      signal: controller.signal,
      connectTimeout: connect,
    });
  } catch (error) {
    const reason = controller.signal.reason ?? error;
    if (reason === CLIENT_GONE) {
      record.backendCall(upstream, outcome, performance.now() - sentAt);
      return GONE;
    }
    const failure = sendFailure(reason, input.retry);
    outcome = failure.outcome;
    record.backendCall(upstream, outcome, performance.now() - sentAt);
    judge(lease, failure, String(failure.error.cause ?? failure.error.message));
    return failure;
  } finally {
    noAnswer?.cancel();
  }
  const latency = performance.now() - sentAt;
  upstream.state.latencySum += latency;
  upstream.state.latencyCount++;
  outcome = answer.status;
  try {
    answer = await exchange.answer(answer);
  } catch (error) {
    record.backendCall(upstream, outcome, latency);
    await answer.cancel();
    if (controller.signal.reason === CLIENT_GONE) return GONE;
    const failure = badAnswer(error, input.retry);
    lease.failed({ reason: failure.error.message, unreachable: false });
    return failure;
  }

  const status = answer.status;
  // A stream's call is told by its first event: a head that came in time may still fail.
  const firstEventAwaited = exchange.streamed && isEventStream(answer);
  if (!firstEventAwaited) {
    noFirstToken?.cancel();
    record.backendCall(upstream, outcome, latency);
  }
  const at = now();
  if (status >= 500) lease.failed({ reason: `answered ${status}`, unreachable: false });
  else if (status === 429) lease.neutral();
  if (status === 429 || status === 503) upstream.concurrency?.overloaded(epoch);
  const coolDown = status === 429 ? parseRetryAfter(answer.header("retry-after"), at) : undefined;
  if (coolDown !== undefined) {
    upstream.state.cooldownUntil = Math.max(upstream.state.cooldownUntil, at + coolDown);
  }
  const notServed = input.pattern && status === 404;
  const retryable = status === 429
    ? coolDown !== undefined && input.retry.statuses.has(429)
    : input.retry.statuses.has(status);
  const relay: RelayContext = {
    lease,
    controller,
    idle,
    streamed: exchange.streamed,
    delivered: input.delivered,
    record,
    errors: input.errors,
    farewell: exchange.farewell,
    now,
    hidesUsage: exchange.hidesUsage,
    storeUse: input.storeUse,
  };
  // Judged a success (below 500, not 429) only once the answer proves passable. (It names no
  // more of the input than it needs: a closure keeps alive what it names as long as any closure
  // of this call lives, as the relay's do while a stream lasts, and the input holds the body.)
  const { retry } = input;
  const unpassable = () => {
    const failure = badAnswer(undefined, retry);
    lease.failed({ reason: failure.error.message, unreachable: false });
    return failure;
  };
  if (status >= 500 || notServed || retryable) {
    const held = await heldCopy(answer, { ...relay, record: undefined });
    if (held === undefined) return unpassable();
    lease.succeeded();
    return { kind: "response", response: held, notServed, retryable };
  }
  if (!isWholeJson(answer)) {
    let started: StartedBody | undefined;
    if (firstEventAwaited) {
      const first = await firstEventOf(answer, relay, {
        retry: input.retry,
        // The first-token deadline bounds the wait, when there is one; else the idle timeout.
        idle: noFirstToken ? 0 : idle,
      });
      if (!("reader" in first)) {
        outcome = first.kind === "transport" ? first.outcome : "client_gone";
        record.backendCall(upstream, outcome, latency);
        if (first.kind === "transport") judge(lease, first);
        return first;
      }
      record.backendCall(upstream, outcome, latency);
      firstTokenAfter(upstream, performance.now() - sentAt, now(), input.promptTokens ?? 0);
      started = first;
    }
    noFirstToken?.cancel();
    const response = relayed(answer, relay, started);
    if (response === undefined) {
      await started?.reader.cancel().catch(() => {});
      return unpassable();
    }
    // From here the client's response holds the body, and the runtime cancels it when the
    // client leaves, which aborts the upstream request: the connection needs no watch of its
    // own for the rest of the answer.
    departure.stop();
    lease.succeeded();
    return response;
  }
  // A small JSON answer is read whole: its `usage` can be read, and a backend that breaks off
  // midway is a failure another instance may repair, not a cut answer. It has the idle timeout
  // to arrive in.
  let body: Uint8Array<ArrayBuffer>;
  const stalled = idle > 0
    ? scheduleDeadline(() => controller.abort(new IdleTimeout()), idle)
    : undefined;
  try {
    body = await answer.bytes();
  } catch (error) {
    if (controller.signal.reason === CLIENT_GONE) return GONE;
    const failure = brokenAnswer(controller.signal.reason ?? error, input.retry);
    judge(lease, failure);
    return failure;
  } finally {
    stalled?.cancel();
  }
  const response = clientResponse(body, answer);
  if (response === undefined) return unpassable();
  lease.succeeded();
  // A whole answer's first token reaches the client with its last.
  upstream.state.performance.firstTokenAfter(performance.now() - sentAt, now());
  // Its time includes the whole generation: no time to first token for the adaptive limit.
  upstream.concurrency?.answered(upstream.state.active);
  record.bodyAnswered(body);
  return response;
}

/** Keeps a time to first token where routing learns from it. */
function firstTokenAfter(
  upstream: Upstream,
  ms: number,
  now: number,
  promptTokens: number,
): void {
  upstream.state.performance.firstTokenAfter(ms, now);
  upstream.concurrency?.firstToken(ms, upstream.state.active, promptTokens);
}

/**
 * Tells the lease what `failure` says of the backend: nothing when the gateway itself stopped
 * the attempt.
 */
function judge(
  lease: UpstreamLease,
  failure: TransportFailure,
  reason: string = failure.error.message,
): void {
  if (failure.outcome === "stopped") lease.neutral();
  else lease.failed({ reason, unreachable: failure.unreachable });
}

/**
 * The first event of a streamed answer, read before the answer is passed on: the body to relay
 * from there, or the failure the attempt is (an error event, a timeout, a stream that broke).
 */
async function firstEventOf(
  answer: UpstreamAnswer,
  relay: RelayContext,
  options: { readonly retry: RetrySettings; readonly idle: number },
): Promise<StartedBody | TransportFailure | { readonly kind: "client-gone" }> {
  const { controller } = relay;
  const { retry } = options;
  let first: FirstEvent | undefined;
  let error: unknown;
  try {
    first = await readFirstEvent(answer.stream()!, {
      idleTimeout: options.idle,
      onIdle: () => controller.abort(new IdleTimeout()),
    });
  } catch (thrown) {
    error = thrown;
  }
  // An abort wins over what was read: a translation may have made an error event of it.
  const aborted = controller.signal.reason;
  if (first !== undefined && aborted === undefined) {
    if (first.kind === "data") return first.body;
    await first.body.reader.cancel().catch(() => {});
    return errorEvent(first.message, retry);
  }
  await first?.body.reader.cancel().catch(() => {});
  if (aborted === CLIENT_GONE) return { kind: "client-gone" };
  return brokenAnswer(aborted ?? error, retry);
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

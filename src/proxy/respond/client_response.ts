/**
 * The client's response made from a backend's answer: passed on with the backend's status and
 * headers, its body relayed as it arrives (the lease going with it and settled at its end), or
 * read into memory when it is held back for a retry.
 * @module
 */
import { type ErrorDialect, GatewayError } from "../../errors.ts";
import type { BodyEnd, ProxyObserver } from "../../observe/proxy_observer.ts";
import type { StreamTap } from "../../observe/stream_tap.ts";
import type { UpstreamAnswer } from "../../transport/upstream_answer.ts";
import type { UpstreamLease } from "../attempt/lease.ts";
import type { StreamFailure } from "../exchange.ts";
import { IdleTimeout } from "../attempt/failure.ts";
import { GatewayStopping } from "../attempt/attempts_in_flight.ts";
import { type ChunkFilter, relayBody, type RelayEnd, type StartedBody } from "./relay.ts";
import { UsageEventFilter } from "./usage_event_filter.ts";
import { responseHeaders } from "./response_headers.ts";
import { isStream } from "./stream_types.ts";

/** The gateway's own abort reason when the client left, told apart from errors of the request. */
export const CLIENT_GONE: Error = new Error("client disconnected");

/**
 * The client's response with the backend's status and headers, or undefined when they cannot
 * be passed on (a transport lets through nothing such; this is the last guard). A streamed
 * one is marked for a proxy in front not to buffer.
 */
export function clientResponse(
  body: BodyInit | null,
  answer: UpstreamAnswer,
  streamed = false,
): Response | undefined {
  try {
    return new Response(body, {
      status: answer.status,
      statusText: answer.statusText,
      headers: responseHeaders(answer.headers, streamed),
    });
  } catch {
    return undefined;
  }
}

/** The largest JSON answer read whole before it is passed on. */
const MAX_WHOLE_JSON = 256 * 1024;

/** A successful SSE stream. */
export function isEventStream(answer: UpstreamAnswer): boolean {
  if (!answer.ok || answer.body === null) return false;
  return answer.header("content-type")?.startsWith("text/event-stream") ?? false;
}

/** A successful JSON answer of a known, small size. */
export function isWholeJson(answer: UpstreamAnswer): boolean {
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
 * slot, perhaps for the retry) while the answer waits to be passed on or dropped. Undefined
 * when the answer's head cannot be passed on.
 */
export async function heldCopy(
  answer: UpstreamAnswer,
  relay: RelayContext,
): Promise<Response | undefined> {
  const stream = answer.stream();
  const chunks: Uint8Array[] = [];
  if (stream !== null) {
    let size = 0;
    try {
      for await (const chunk of relayBody(stream, relayOptions(relay))) {
        size += chunk.byteLength;
        if (size > MAX_HELD_BODY) break;
        chunks.push(chunk);
      }
    } catch {
      // The body broke off: what arrived is kept.
    }
  }
  const held = clientResponse(
    chunks.length === 0 ? null : new Blob(chunks as BlobPart[]),
    answer,
  );
  held?.headers.delete("content-length");
  return held;
}

/** How to hand a backend's response to the client. */
export interface RelayContext {
  readonly lease: UpstreamLease;
  readonly controller: AbortController;
  readonly idle: number;
  /** The client asked for a stream. */
  readonly streamed: boolean;
  readonly delivered: Promise<void> | undefined;
  /** Where a relayed body is observed; none for an answer held back. */
  readonly record: ProxyObserver | undefined;
  /** How the client's API words the error event that ends a cut stream. */
  readonly errors: ErrorDialect;
  /** The last bytes of a cut stream from a translation that numbers its events; none: `errors`. */
  readonly farewell?: ((failure: StreamFailure) => Uint8Array | undefined) | undefined;
  /** The clock (ms) the instance's measured performance is stamped with. */
  readonly now: () => number;
  /** The stream's usage-only event is not passed on: the client did not ask for it. */
  readonly hidesUsage?: boolean | undefined;
  /** Stores the request's use, when it counts against a budget: the body's end waits for it. */
  readonly storeUse?: (() => Promise<void>) | undefined;
}

/** What else a relay of the client's body does besides settling the lease at its end. */
interface RelayDuties {
  /** Whoever holds the lease at the relay's end, set by the caller once the body is theirs. */
  readonly owner?: { lease: UpstreamLease | undefined };
  readonly onChunk?: ((chunk: Uint8Array) => void) | undefined;
  readonly filter?: ChunkFilter | undefined;
  readonly farewell?: ((error: unknown) => Uint8Array) | undefined;
  /** Called when the whole body went through, before the lease settles. */
  readonly onDone?: (() => void) | undefined;
  /** What the body's last bytes and end wait for, once the whole body went through. */
  readonly beforeEnd?: (() => Promise<void> | undefined) | undefined;
}

/**
 * The relay's options for a body read through it. The lease is settled at the relay's end by
 * whoever holds it then: set by the caller once the body is theirs.
 */
function relayOptions(relay: RelayContext, duties: RelayDuties = {}) {
  const { owner, onDone } = duties;
  return {
    idleTimeout: relay.idle,
    onIdle: () => relay.controller.abort(new IdleTimeout()),
    onCancel: () => relay.controller.abort(CLIENT_GONE),
    onChunk: duties.onChunk,
    filter: duties.filter,
    farewell: duties.farewell,
    beforeEnd: duties.beforeEnd,
    onEnd: (end: RelayEnd) => {
      if (end.kind === "done") onDone?.();
      owner?.lease?.[Symbol.dispose]();
      relay.record?.tapEnded(bodyEnd(end));
    },
  };
}

/**
 * The client-facing response: the backend's status and headers, and its body. A stream (SSE,
 * NDJSON, audio, or anything the client asked to stream) goes through the relay, which watches
 * the gap between chunks (unless the idle timeout is off) and lets the record see each chunk;
 * so does a body of unknown length. Any other body is handed to the server as it is, without
 * the relay, and the lease settles when the server reports it delivered. Undefined when the
 * answer's head cannot be passed on; the lease then stays with the caller. A body `started`
 * (its first chunks read already) is relayed from where it was; when it is an SSE stream that
 * ends whole, its instance learns how fast it generated: the output tokens after the first over
 * the time from the first event (just read) to the end.
 */
export function relayed(
  answer: UpstreamAnswer,
  relay: RelayContext,
  started?: StartedBody,
): Response | undefined {
  const answerBody = answer.body;
  if (answerBody === null) return clientResponse(null, answer);
  const contentType = answer.header("content-type");
  const streamed = relay.streamed || isStream(contentType);
  if (relay.delivered && !streamed && answer.header("content-length") !== null) {
    const response = clientResponse(answerBody, answer);
    if (response === undefined) return undefined;
    const lease = relay.lease.move();
    const settle = () => lease[Symbol.dispose]();
    relay.delivered.then(settle, settle);
    return response;
  }
  const sse = contentType?.startsWith("text/event-stream") ?? false;
  const tap = relay.record?.tap(
    sse ? "sse" : streamed ? "stream" : contentType?.includes("json") ? "json" : "other",
  );
  const owner: { lease: UpstreamLease | undefined } = { lease: undefined };
  const body = relayBody(
    started ?? answer.stream()!,
    relayOptions(relay, {
      owner,
      onChunk: tap ? (chunk) => tap.chunk(chunk) : undefined,
      filter: sse && relay.hidesUsage ? new UsageEventFilter() : undefined,
      // An SSE client learns why its stream ended: the SDKs raise the error event.
      farewell: sse ? (error) => farewellOf(relay, streamCut(error, relay.idle)) : undefined,
      onDone: started && sse && tap ? generationTimer(relay, tap) : undefined,
      beforeEnd: useStored(relay, answer.status),
    }),
  );
  const response = clientResponse(body, answer, streamed);
  // The relay runs only once the client reads, which is after the lease has moved to it.
  if (response !== undefined) owner.lease = relay.lease.move();
  else void body.cancel();
  return response;
}

/**
 * For a request under a budget: settles its use once its body went through, and has the body's
 * end wait until it is stored (a gateway killed after the client had its answer has counted it).
 */
function useStored(
  relay: RelayContext,
  status: number,
): (() => Promise<void> | undefined) | undefined {
  const { record, storeUse } = relay;
  if (record === undefined || storeUse === undefined) return undefined;
  return () => record.answerWhole(status) ? storeUse() : undefined;
}

/**
 * Started at a stream's first event: at its end, tells the instance how many tokens came after
 * the first, and in how long.
 */
function generationTimer(relay: RelayContext, tap: StreamTap): () => void {
  const { upstream } = relay.lease;
  const since = performance.now();
  return () =>
    upstream.state.performance.generated(tap.tokens() - 1, performance.now() - since, relay.now());
}

/** The last bytes of a cut stream: the translation's own, else the client API's error event. */
function farewellOf(relay: RelayContext, cut: GatewayError): Uint8Array {
  return relay.farewell?.(cut) ?? relay.errors.streamEvent(cut);
}

/**
 * Why the gateway cut a stream the backend broke off or let go idle, or that the gateway's
 * shutdown ended: sent to the client as an SSE error event, which the SDKs raise as an error
 * rather than returning a cut answer.
 */
export function streamCut(reason: unknown, idleTimeout: number): GatewayError {
  if (reason instanceof GatewayStopping) {
    return new GatewayError(
      503,
      "gateway_stopping",
      "The gateway is stopping and its grace period is over: the stream was cut",
      { type: "server_error" },
    );
  }
  const idle = reason instanceof IdleTimeout;
  return new GatewayError(
    idle ? 504 : 502,
    idle ? "upstream_timeout" : "upstream_broken_stream",
    idle
      ? `The backend sent nothing for ${idleTimeout} ms: the stream was cut`
      : "The backend broke off the stream midway",
    { type: "upstream_error" },
  );
}

/** How a relay's end reads in the request's record. */
function bodyEnd(end: RelayEnd): BodyEnd {
  if (end.kind === "done") return "complete";
  if (end.kind === "cancelled") return "client_closed";
  if (end.error instanceof GatewayStopping) return "shutdown";
  return end.error instanceof IdleTimeout ? "timeout" : "upstream_broken";
}

/**
 * A streaming request that waits long in a model's queue is answered at once: the SSE head goes
 * out with `x-queue-position`, then a comment line (`: queued position=N`) every so often while
 * it waits, so that the client and the proxies on the way keep the connection open. The real
 * stream follows when an instance answers; an answer that is no stream, or an error once the
 * head is out, ends the stream with an error event in the client's API.
 * @module
 */
import { type ErrorDialect, GatewayError } from "../errors.ts";
import { QUEUE_POSITION_HEADER, type QueueVisit } from "./queue_visit.ts";
import type { Timer } from "./wait_queue.ts";

/** Options for {@linkcode keptAlive}. */
export interface KeptAliveOptions {
  /** ms in the queue before the head goes out, and then between comment lines. */
  readonly every: number;
  /** How the client's API words an error event. */
  readonly errors: ErrorDialect;
  /** Starts timers. @default setTimeout */
  readonly timer?: Timer;
}

const encoder = new TextEncoder();

const realTimer: Timer = (callback, ms) => {
  const id = setTimeout(callback, ms);
  return () => clearTimeout(id);
};

/**
 * The response to a streaming request: `answering` itself, with the queue headers when it
 * waited, when it comes before the request has waited `every` ms in a queue; else an SSE
 * response started then, carrying comment lines until `answering` settles and its stream after.
 */
export function keptAlive(
  answering: Promise<Response>,
  visit: QueueVisit,
  options: KeptAliveOptions,
): Promise<Response> {
  const timer = options.timer ?? realTimer;
  return new Promise((resolve, reject) => {
    let cancelHead: (() => void) | undefined;
    let started: ((outcome: Promise<Response>) => void) | undefined;
    visit.onEnter(() => {
      if (cancelHead !== undefined || started !== undefined) return;
      cancelHead = timer(() => {
        const early = earlyStream(visit, options, timer);
        started = early.follow;
        resolve(early.response);
      }, options.every);
    });
    answering.then(
      (response) => {
        if (started) return started(Promise.resolve(response));
        cancelHead?.();
        resolve(withQueueHeaders(response, visit));
      },
      (error) => {
        if (started) return started(Promise.reject(error));
        cancelHead?.();
        reject(error);
      },
    );
  });
}

/** `response` with the headers that say how it waited, if it did. */
export function withQueueHeaders(response: Response, visit: QueueVisit): Response {
  // Most requests never wait: nothing to add, nothing to make.
  if (visit.position === undefined) return response;
  for (const [name, value] of Object.entries(visit.headers())) response.headers.set(name, value);
  return response;
}

/** The SSE response sent while the request waits, and how it takes up the answer. */
function earlyStream(visit: QueueVisit, options: KeptAliveOptions, timer: Timer) {
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  const writer = writable.getWriter();
  // A write to a client that left fails: it has nothing left to be told.
  const send = (bytes: Uint8Array) => writer.write(bytes).catch(() => {});
  let stopComments = () => {};
  const comment = () => {
    const position = visit.current;
    if (position !== undefined) send(encoder.encode(`: queued position=${position}\n\n`));
    stopComments = timer(comment, options.every);
  };
  comment();
  const follow = async (outcome: Promise<Response>) => {
    stopComments();
    let response: Response;
    try {
      response = await outcome;
    } catch (error) {
      await send(options.errors.streamEvent(asGatewayError(error)));
      await writer.close().catch(() => {});
      return;
    }
    if (response.ok && response.body && isEventStream(response)) {
      writer.releaseLock();
      await response.body.pipeTo(writable).catch(() => {});
      return;
    }
    if (response.status !== 499) {
      await send(options.errors.streamEvent(await answerError(response)));
    }
    await response.body?.cancel().catch(() => {});
    await writer.close().catch(() => {});
  };
  const headers = new Headers({
    "content-type": "text/event-stream",
    "cache-control": "no-cache",
  });
  if (visit.position !== undefined) headers.set(QUEUE_POSITION_HEADER, String(visit.position));
  return { response: new Response(readable, { status: 200, headers }), follow };
}

function isEventStream(response: Response): boolean {
  return (response.headers.get("content-type") ?? "").toLowerCase().startsWith(
    "text/event-stream",
  );
}

function asGatewayError(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  return new GatewayError(500, "internal_error", "The gateway failed while the request waited");
}

/** The error an answer that is no stream makes, its own message kept when it has one. */
async function answerError(response: Response): Promise<GatewayError> {
  const text = await response.text().catch(() => "");
  let message = text.slice(0, 1_000);
  try {
    const parsed: unknown = JSON.parse(text);
    const error = typeof parsed === "object" && parsed !== null && "error" in parsed
      ? parsed.error
      : undefined;
    if (typeof error === "object" && error !== null && "message" in error) {
      message = String(error.message);
    } else if (typeof error === "string") message = error;
  } catch {
    // Not JSON: its text is the message.
  }
  return new GatewayError(
    response.status >= 400 ? response.status : 502,
    "upstream_error",
    `The backend answered ${response.status}${message ? `: ${message}` : ""}`,
  );
}

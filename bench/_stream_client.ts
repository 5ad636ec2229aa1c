/**
 * A client that holds thousands of long SSE streams at once and times each chunk as it arrives.
 * It speaks HTTP/1.1 by hand over `Deno.connect`, one small reused buffer per connection, and
 * decodes the chunked framing itself: `fetch` would add a Response, a ReadableStream and its
 * promises per chunk to the very process that keeps the clock. Run straight against the fake
 * backend, its gaps between chunks are the backend's interval, which shows it keeps up.
 * @module
 */
import { epochMs, parseSentStamp } from "./fake_backend.ts";
import { ChunkedBody } from "./_chunked_body.ts";
import { STREAM_REQUEST } from "./_ttfb.ts";

/** Options for {@linkcode holdStreams}. */
export interface StreamLoad {
  /** Streams held at once. */
  readonly streams: number;
  /** Stamped chunks in each stream, before `data: [DONE]`. */
  readonly chunks: number;
  /** Time the backend puts between two chunks, in ms. */
  readonly intervalMs: number;
  /**
   * Time over which the streams start, evenly spread, in ms, so that their chunks do not all
   * leave the backend at the same instant. @default intervalMs
   */
  readonly spreadMs?: number;
}

/** What one batch of streams delivered. */
export interface StreamLoadResult {
  /** Streams that ended with `data: [DONE]` after every chunk. */
  readonly completed: number;
  /** Streams that failed, by why. */
  readonly errors: ReadonlyMap<string, number>;
  /** Stamped chunks received, in all streams. */
  readonly chunks: number;
  /** Time between two chunks of one stream as the client saw them, in ms. */
  readonly gapsMs: Float64Array;
  /**
   * The gaps that ended once every stream had been open for one interval: the load held, its
   * openings over.
   */
  readonly steadyGapsMs: Float64Array;
  /** Time from the backend's send stamp to the chunk's arrival, in ms. */
  readonly delaysMs: Float64Array;
  /**
   * Time from the moment each stream was due to open to its response head, in ms: waiting for
   * one of the client's openers (64 connect at a time), connecting (a connection the target's
   * listen queue had no room for is tried again a second later), the target's wait before it
   * begins the request, and the backend's answer to it. A stream that failed before its head has
   * none; it is among the errors.
   */
  readonly headsMs: Float64Array;
  readonly seconds: number;
}

/** A growable list of numbers without a boxed value per entry. */
class Samples {
  #values = new Float64Array(1024);
  #length = 0;

  push(value: number): void {
    if (this.#length === this.#values.length) {
      const grown = new Float64Array(this.#values.length * 2);
      grown.set(this.#values);
      this.#values = grown;
    }
    this.#values[this.#length++] = value;
  }

  /** The values, sorted ascending. */
  sorted(): Float64Array {
    return this.#values.slice(0, this.#length).sort();
  }
}

/** The `p`th percentile (0–100) of ascending `sorted`, by nearest rank; NaN when empty. */
export function sortedPercentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

/** Why a stream failed, for the error counts. */
class StreamError extends Error {}

const encoder = new TextEncoder();
const CRLF_CRLF = encoder.encode("\r\n\r\n");
/** Bytes read per call; a stamped chunk is about 200. */
const READ_SIZE = 4096;
/** Connections being opened at one time while the streams start. */
const OPENERS = 64;
/** Time a stream may take beyond its chunks' schedule before it counts as timed out. */
const SLACK_MS = 30_000;

/** Holds `load.streams` streams from `url` at once, until each ends, and times their chunks. */
export async function holdStreams(url: string, load: StreamLoad): Promise<StreamLoadResult> {
  const target = new URL(url);
  const request = encoder.encode(
    `POST ${target.pathname}${target.search} HTTP/1.1\r\n` +
      `host: ${target.host}\r\n` +
      "content-type: application/json\r\n" +
      `content-length: ${encoder.encode(STREAM_REQUEST).length}\r\n` +
      `x-bench-chunk-delay: ${load.intervalMs}\r\n` +
      `x-bench-stream-chunks: ${load.chunks}\r\n` +
      "connection: close\r\n\r\n" +
      STREAM_REQUEST,
  );
  const gaps = new Samples();
  const steadyGaps = new Samples();
  let steadyFrom = Infinity;
  const delays = new Samples();
  const heads = new Samples();
  const errors = new Map<string, number>();
  let completed = 0;
  let chunks = 0;
  const recorder: ChunkRecorder = {
    chunk(gapMs, delayMs) {
      chunks++;
      if (gapMs !== undefined) {
        gaps.push(gapMs);
        if (performance.now() >= steadyFrom) steadyGaps.push(gapMs);
      }
      delays.push(delayMs);
    },
    head(ms) {
      heads.push(ms);
    },
  };
  const timeoutMs = load.chunks * load.intervalMs + SLACK_MS;
  const running: Promise<void>[] = [];
  const started = performance.now();
  const spreadMs = load.spreadMs ?? load.intervalMs;
  let next = 0;
  const opener = async () => {
    while (next < load.streams) {
      const due = started + (next++ * spreadMs) / load.streams;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      let connection: Deno.TcpConn | undefined;
      try {
        connection = await Deno.connect({ hostname: target.hostname, port: Number(target.port) });
        connection.setNoDelay(true);
        for (let written = 0; written < request.length;) {
          written += await connection.write(request.subarray(written));
        }
      } catch (error) {
        count(errors, `connect: ${describe(error)}`);
        connection?.close();
        continue;
      }
      running.push(
        readStream(connection, { chunks: load.chunks, timeoutMs, recorder, due }).then(
          () => void completed++,
          (error) => count(errors, describe(error)),
        ),
      );
    }
  };
  await Promise.all(Array.from({ length: OPENERS }, opener));
  steadyFrom = performance.now() + load.intervalMs;
  await Promise.all(running);
  return {
    completed,
    errors,
    chunks,
    gapsMs: gaps.sorted(),
    steadyGapsMs: steadyGaps.sorted(),
    delaysMs: delays.sorted(),
    headsMs: heads.sorted(),
    seconds: (performance.now() - started) / 1000,
  };
}

function count(errors: Map<string, number>, why: string): void {
  errors.set(why, (errors.get(why) ?? 0) + 1);
}

function describe(error: unknown): string {
  if (error instanceof StreamError) return error.message;
  if (error instanceof Error) return error.name === "Error" ? error.message : error.name;
  return String(error);
}

/** Where a stream reports each stamped chunk. */
interface ChunkRecorder {
  /** A chunk arrived: `gapMs` after the stream's previous one (none for its first). */
  chunk(gapMs: number | undefined, delayMs: number): void;
  /** The response head arrived, `ms` after the stream was due to open. */
  head(ms: number): void;
}

/**
 * Reads one response to its `data: [DONE]`, reporting each chunk; throws a {@linkcode
 * StreamError} if it is not a 200 stream of `chunks` chunks, or takes longer than `timeoutMs`.
 */
async function readStream(
  connection: Deno.TcpConn,
  options: {
    chunks: number;
    timeoutMs: number;
    recorder: ChunkRecorder;
    /** When the stream was due to open, by `performance.now()`. */
    due: number;
  },
): Promise<void> {
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    connection.close();
  }, options.timeoutMs);
  const buffer = new Uint8Array(READ_SIZE);
  let body: ChunkedBody | undefined;
  const decoder = new TextDecoder();
  let head: Uint8Array | undefined = new Uint8Array(0);
  let events = "";
  let received = 0;
  let previous: number | undefined;
  try {
    for (;;) {
      let read: number | null;
      try {
        read = await connection.read(buffer);
      } catch (error) {
        if (timedOut) throw new StreamError("timed out");
        throw error;
      }
      if (read === null) {
        throw new StreamError(
          head ? "closed before the response head" : "ended before data: [DONE]",
        );
      }
      const now = epochMs();
      let bytes: Uint8Array = buffer.subarray(0, read);
      if (head) {
        const joined = concat(head, bytes);
        const end = indexOf(joined, CRLF_CRLF);
        if (end < 0) {
          // `joined` may be the read buffer itself, which the next read overwrites.
          head = joined.slice();
          continue;
        }
        // A body of known length, or one that ends with the connection, needs no decoding.
        if (isChunkedEventStream(decoder.decode(joined.subarray(0, end)))) body = new ChunkedBody();
        options.recorder.head(performance.now() - options.due);
        head = undefined;
        bytes = joined.subarray(end + CRLF_CRLF.length);
      }
      events += decoder.decode(body ? body.decode(bytes) : bytes, { stream: true });
      for (let end = events.indexOf("\n\n"); end >= 0; end = events.indexOf("\n\n")) {
        const event = events.slice(0, end);
        events = events.slice(end + 2);
        if (event === "data: [DONE]") {
          if (received !== options.chunks) {
            throw new StreamError(`${received} of ${options.chunks} chunks`);
          }
          return;
        }
        const sent = parseSentStamp(event);
        if (sent === undefined) throw new StreamError("a chunk without a send stamp");
        received++;
        options.recorder.chunk(previous === undefined ? undefined : now - previous, now - sent);
        previous = now;
      }
    }
  } finally {
    clearTimeout(timer);
    try {
      connection.close();
    } catch {
      // Closed by the timeout already.
    }
  }
}

/** Reads a response head; throws unless it is a 200 event stream. Returns if it is chunked. */
function isChunkedEventStream(head: string): boolean {
  const [status = "", ...fields] = head.split("\r\n");
  if (!/^HTTP\/1\.[01] 200 /.test(status)) {
    throw new StreamError(`answered ${status.split(" ").slice(1).join(" ") || "nothing"}`);
  }
  const headers = new Map(fields.map((field) => {
    const colon = field.indexOf(":");
    return [field.slice(0, colon).trim().toLowerCase(), field.slice(colon + 1).trim()];
  }));
  if (!(headers.get("content-type") ?? "").startsWith("text/event-stream")) {
    throw new StreamError(`answered ${headers.get("content-type")}, not an event stream`);
  }
  return (headers.get("transfer-encoding") ?? "").toLowerCase().includes("chunked");
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const joined = new Uint8Array(a.length + b.length);
  joined.set(a);
  joined.set(b, a.length);
  return joined;
}

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let at = 0; at <= haystack.length - needle.length; at++) {
    for (let index = 0; index < needle.length; index++) {
      if (haystack[at + index] !== needle[index]) continue outer;
    }
    return at;
  }
  return -1;
}

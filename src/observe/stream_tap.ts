/**
 * Watches a response body go by chunk by chunk without touching it: its size, when its first
 * chunk passed (time to first token), and for an SSE stream, the mean time between its events
 * (inter-token latency) and the backend's `usage` in its last events.
 * @module
 */
import type { HistogramSeries } from "../metrics/registry.ts";
import type { BodyCapture } from "./body_capture.ts";
import { findUsage, type TokenUsage } from "./usage.ts";

/** The most of a body's end kept to search for `usage`, in bytes. */
const TAIL_BYTES = 16384;
/** The smallest buffer the kept bytes go in, in bytes. */
const MIN_TAIL_BUFFER = 256;

/** Where a tap reports. */
export interface TapTarget {
  /** ms since the request arrived, on the record's clock. */
  elapsed(): number;
  /** Where a stream's mean gap between events goes, when it is SSE and metrics are on. */
  readonly gaps: HistogramSeries | undefined;
  /** Whether the body's `usage` is wanted: only then is its end kept to read it from. */
  readonly readsUsage: boolean;
  /** Keeps the body's first bytes for the request line, when `log.bodies` is on. */
  readonly capture?: BodyCapture | undefined;
}

/** What a watched body came to. */
export interface TapResult {
  readonly bytes: number;
  /** ms from the request's arrival to the first chunk of a stream; undefined for none. */
  readonly firstChunk: number | undefined;
  readonly usage: TokenUsage | undefined;
  /** ms, the mean gap between an SSE stream's events; undefined for fewer than three. */
  readonly interTokenLatency: number | undefined;
}

/**
 * What a tapped body is: an SSE stream (events, `usage` at the end), another stream (audio,
 * NDJSON), or a body that is not streamed: JSON (which may end with `usage`) or other.
 */
export type TappedBody = "sse" | "stream" | "json" | "other";

/** A tap on one response body. */
export class StreamTap {
  readonly #target: TapTarget;
  readonly #capture: BodyCapture | undefined;
  readonly #sse: boolean;
  readonly #streamed: boolean;
  /** Whether the end of the body is kept, to read `usage` from. */
  readonly #keepsTail: boolean;
  #bytes = 0;
  #chunks = 0;
  #first: number | undefined;
  /** SSE events seen, and when the first and the latest chunk holding one passed. */
  #events = 0;
  #firstEvent = 0;
  #lastEvent = 0;
  /** Whether the line the last chunk ended in is, so far, empty (or a lone `\r`). */
  #lineEmptySoFar = false;
  /**
   * The end of the body, to read `usage` from: at most `TAIL_BYTES`, and for an SSE stream only
   * from the start of its last event that is not `[DONE]` on.
   */
  readonly #tail = new KeptTail();
  /** The `usage` read from the tail, once the body ended and it was asked for. */
  #usageRead: { readonly usage: TokenUsage | undefined } | undefined;
  /** What went by, once read: the body is over, and its gap is observed once. */
  #result: TapResult | undefined;

  constructor(target: TapTarget, kind: TappedBody) {
    this.#target = target;
    this.#capture = target.capture;
    this.#sse = kind === "sse";
    this.#streamed = kind === "sse" || kind === "stream";
    this.#keepsTail = target.readsUsage && (kind === "sse" || kind === "json");
  }

  /** Whether the body is an SSE stream. */
  get sse(): boolean {
    return this.#sse;
  }

  /** Bytes kept to read `usage` from. */
  get keptBytes(): number {
    return this.#tail.length;
  }

  /** Counts one chunk on its way to the client. */
  chunk(bytes: Uint8Array): void {
    this.#bytes += bytes.byteLength;
    this.#chunks++;
    if (this.#first === undefined) this.#first = this.#target.elapsed();
    this.#capture?.add(bytes);
    if (this.#sse) {
      const events = this.#eventsEnding(bytes);
      if (events > 0) {
        const at = this.#target.elapsed();
        if (this.#events === 0) this.#firstEvent = at;
        this.#lastEvent = at;
        this.#events += events;
      }
    }
    if (!this.#keepsTail) return;
    // A chunk that holds the start of its last complete event that is not `[DONE]` replaces
    // what was kept; any other is added to it.
    const start = this.#sse
      ? lastDataEventStart(bytes, lastBlankLineEnd(bytes, 1, bytes.length))
      : -1;
    if (start > 0 || (start === 0 && this.#tail.endsEvent())) {
      this.#tail.replaceWith(bytes, start);
      return;
    }
    this.#tail.append(bytes);
    if (this.#sse) this.#keepFromLastEvent(bytes.byteLength);
  }

  /**
   * Drops the kept bytes before the last complete event that is not `[DONE]`: the events after
   * it are `[DONE]`s, or still arriving, and the ones before it can no longer be the last.
   * Only the `added` bytes at the end are new, so only they can end an event.
   */
  #keepFromLastEvent(added: number): void {
    if (added === 0) return;
    const tail = this.#tail;
    const bytes = tail.buffer;
    // The last LF of a blank line among the new bytes ends the last complete event.
    const end = lastBlankLineEnd(bytes, Math.max(1, tail.length - added), tail.length);
    if (end < 0) return;
    const start = lastDataEventStart(bytes, end);
    tail.dropBefore(start < 0 ? end : start);
  }

  /**
   * What went by, once the body ended. For an SSE stream of two events or more, the mean gap
   * between its events (the last, `[DONE]`, not counted) goes to the gaps histogram: events
   * that came in one chunk count as no gap, as the gateway saw them. Read once: later calls
   * give the same result and observe nothing more.
   */
  result(): TapResult {
    return this.#result ??= this.#read();
  }

  #read(): TapResult {
    const tokens = this.#events - 1;
    const gap = this.#sse && tokens >= 2
      ? (this.#lastEvent - this.#firstEvent) / (tokens - 1)
      : undefined;
    if (gap !== undefined) this.#target.gaps?.observe(gap / 1000);
    return {
      bytes: this.#bytes,
      firstChunk: this.#streamed ? this.#first : undefined,
      usage: this.#usage(),
      interTokenLatency: gap,
    };
  }

  /**
   * The output tokens a finished SSE stream carried: the backend's `usage` when it gave one
   * (and it was read), else the stream's events, about one token each in an OpenAI-style chat
   * stream, `[DONE]` left out; for another stream, its chunks.
   */
  tokens(): number {
    const usage = this.#usage();
    if (usage !== undefined && usage.output > 0) return usage.output;
    return (this.#sse ? this.#events : this.#chunks) - 1;
  }

  /** How many SSE events end in `bytes`: blank lines, which may straddle chunks. */
  #eventsEnding(bytes: Uint8Array): number {
    let events = 0;
    let start = 0;
    for (let i = bytes.indexOf(0x0a); i >= 0; i = bytes.indexOf(0x0a, i + 1)) {
      if ((start > 0 || this.#lineEmptySoFar) && isBlank(bytes, start, i)) events++;
      start = i + 1;
    }
    this.#lineEmptySoFar = (start > 0 || this.#lineEmptySoFar) &&
      isBlank(bytes, start, bytes.length);
    return events;
  }

  /**
   * The usage at the body's end: for SSE, in its last event other than `data: [DONE]`. Read
   * once the body ended; the first read is kept.
   */
  #usage(): TokenUsage | undefined {
    if (this.#usageRead) return this.#usageRead.usage;
    const bytes = this.#tail.bytes;
    const usage = bytes.length === 0
      ? undefined
      : findUsage(this.#sse ? lastDataEvent(bytes) : bytes);
    this.#usageRead = { usage };
    return usage;
  }
}

/** The last bytes of a body, at most `TAIL_BYTES`, in one buffer sized to about what it keeps. */
class KeptTail {
  #buffer = new Uint8Array(0);
  #length = 0;

  get length(): number {
    return this.#length;
  }

  /** The kept bytes, valid until the next change. */
  get bytes(): Uint8Array {
    return this.#buffer.subarray(0, this.#length);
  }

  /** The buffer the kept bytes start, `length` of them, valid until the next change. */
  get buffer(): Uint8Array {
    return this.#buffer;
  }

  /** Whether nothing is kept, or it ends with a blank line: a next chunk starts a new event. */
  endsEvent(): boolean {
    return this.#length === 0 || endsBlankLine(this.#buffer, this.#length - 1);
  }

  /** Keeps `bytes` from `start` on instead of what was kept. */
  replaceWith(bytes: Uint8Array, start: number): void {
    const length = bytes.byteLength - start;
    if (length > TAIL_BYTES || length > this.#buffer.length) {
      this.#length = 0;
      this.append(start === 0 ? bytes : bytes.subarray(start));
      return;
    }
    if (this.#buffer.length > MIN_TAIL_BUFFER && 4 * length < this.#buffer.length) {
      this.#buffer = new Uint8Array(Math.max(MIN_TAIL_BUFFER, 2 * length));
    }
    for (let at = 0; at < length; at++) this.#buffer[at] = bytes[start + at]!;
    this.#length = length;
  }

  /** Keeps `bytes` after the rest, dropping the oldest beyond `TAIL_BYTES`. */
  append(bytes: Uint8Array): void {
    if (bytes.byteLength >= TAIL_BYTES) {
      bytes = bytes.subarray(bytes.byteLength - TAIL_BYTES);
      this.#length = 0;
    } else if (this.#length + bytes.byteLength > TAIL_BYTES) {
      this.dropBefore(this.#length + bytes.byteLength - TAIL_BYTES);
    }
    const length = this.#length + bytes.byteLength;
    if (length > this.#buffer.length) {
      this.#resize(
        Math.min(TAIL_BYTES, Math.max(MIN_TAIL_BUFFER, 2 * this.#buffer.length, length)),
      );
    }
    this.#buffer.set(bytes, this.#length);
    this.#length = length;
  }

  /** Drops the bytes before `at`; a buffer left mostly empty is replaced by a smaller one. */
  dropBefore(at: number): void {
    if (at === 0) return;
    this.#buffer.copyWithin(0, at, this.#length);
    this.#length -= at;
    if (this.#buffer.length > MIN_TAIL_BUFFER && 4 * this.#length < this.#buffer.length) {
      this.#resize(Math.max(MIN_TAIL_BUFFER, 2 * this.#length));
    }
  }

  #resize(size: number): void {
    const buffer = new Uint8Array(size);
    if (this.#length > 0) buffer.set(this.bytes);
    this.#buffer = buffer;
  }
}

const DONE = new TextEncoder().encode("[DONE]");
const LF = 0x0a;
const CR = 0x0d;

/**
 * The last event at the end of an SSE stream that is not `data: [DONE]`: the one a backend
 * puts its `usage` in, with the stream's final counts. Searching only it keeps a stream that
 * reports no usage from being searched through to its tail's start.
 */
export function lastDataEvent(bytes: Uint8Array): Uint8Array {
  const start = lastDataEventStart(bytes, bytes.length);
  if (start < 0) return bytes.subarray(0, 0);
  let end = start + 1;
  while (end < bytes.length && !endsBlankLine(bytes, end)) end++;
  while (bytes[end - 1] === LF || bytes[end - 1] === CR) end--;
  return bytes.subarray(start, end);
}

/**
 * Where the last event in `bytes[0, end)` that is not `data: [DONE]` starts; -1 when there is
 * none.
 */
function lastDataEventStart(bytes: Uint8Array, end: number): number {
  for (;;) {
    while (end > 0 && (bytes[end - 1] === LF || bytes[end - 1] === CR)) end--;
    if (end <= 0) return -1;
    let start = 0;
    // From `end - 2`: a blank line's last LF before the event's last byte. (A negative index
    // would count from the end of the array.)
    for (
      let at = end < 2 ? -1 : bytes.lastIndexOf(LF, end - 2);
      at > 0;
      at = bytes.lastIndexOf(LF, at - 1)
    ) {
      if (endsBlankLine(bytes, at)) {
        start = at + 1;
        break;
      }
    }
    if (!endsWith(bytes, end, DONE)) return start;
    end = start;
  }
}

/**
 * Just past the last LF in `bytes[from, to)` that ends a blank line; -1 when there is none.
 * `from` is at least 1: a LF at 0 has no line before it.
 */
function lastBlankLineEnd(bytes: Uint8Array, from: number, to: number): number {
  for (
    let at = to < 1 ? -1 : bytes.lastIndexOf(LF, to - 1);
    at >= from;
    at = bytes.lastIndexOf(LF, at - 1)
  ) {
    if (endsBlankLine(bytes, at)) return at + 1;
  }
  return -1;
}

/** Whether the line feed at `at` ends a blank line: `\n\n` or `\n\r\n`. */
function endsBlankLine(bytes: Uint8Array, at: number): boolean {
  if (bytes[at] !== LF) return false;
  const before = bytes[at - 1];
  return before === LF || (before === CR && bytes[at - 2] === LF);
}

function endsWith(bytes: Uint8Array, end: number, suffix: Uint8Array): boolean {
  if (end < suffix.length) return false;
  for (let i = 0; i < suffix.length; i++) {
    if (bytes[end - suffix.length + i] !== suffix[i]) return false;
  }
  return true;
}

/** Whether `bytes[from, to)` is empty or a lone carriage return. */
function isBlank(bytes: Uint8Array, from: number, to: number): boolean {
  return to === from || (to === from + 1 && bytes[from] === 0x0d);
}

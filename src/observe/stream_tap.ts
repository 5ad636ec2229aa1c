/**
 * Watches a response body go by chunk by chunk without touching it: its size, when its first
 * chunk passed (time to first token), and for an SSE stream, the mean time between its events
 * (inter-token latency) and the backend's `usage` in its last events.
 * @module
 */
import type { HistogramSeries } from "../metrics/registry.ts";
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
}

/** What a watched body came to. */
export interface TapResult {
  readonly bytes: number;
  /** ms from the request's arrival to the first chunk of a stream; undefined for none. */
  readonly firstChunk: number | undefined;
  readonly usage: TokenUsage | undefined;
}

/**
 * What a tapped body is: an SSE stream (events, `usage` at the end), another stream (audio,
 * NDJSON), or a body that is not streamed: JSON (which may end with `usage`) or other.
 */
export type TappedBody = "sse" | "stream" | "json" | "other";

/** A tap on one response body. */
export class StreamTap {
  readonly #target: TapTarget;
  readonly #sse: boolean;
  /** Whether SSE events are counted and timed: only when their gaps are measured. */
  readonly #countsEvents: boolean;
  readonly #streamed: boolean;
  /** Whether the end of the body is kept, to read `usage` from. */
  readonly #keepsTail: boolean;
  #bytes = 0;
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

  constructor(target: TapTarget, kind: TappedBody) {
    this.#target = target;
    this.#sse = kind === "sse";
    this.#countsEvents = this.#sse && target.gaps !== undefined;
    this.#streamed = kind === "sse" || kind === "stream";
    this.#keepsTail = target.readsUsage && (kind === "sse" || kind === "json");
  }

  /** Bytes kept to read `usage` from. */
  get keptBytes(): number {
    return this.#tail.length;
  }

  /** Counts one chunk on its way to the client. */
  chunk(bytes: Uint8Array): void {
    this.#bytes += bytes.byteLength;
    if (this.#first === undefined) this.#first = this.#target.elapsed();
    if (this.#countsEvents) {
      const events = this.#eventsEnding(bytes);
      if (events > 0) {
        const at = this.#target.elapsed();
        if (this.#events === 0) this.#firstEvent = at;
        this.#lastEvent = at;
        this.#events += events;
      }
    }
    if (!this.#keepsTail) return;
    this.#tail.append(bytes);
    if (this.#sse) this.#keepFromLastEvent(bytes.byteLength);
  }

  /**
   * Drops the kept bytes before the last complete event that is not `[DONE]`: the events after
   * it are `[DONE]`s, or still arriving, and the ones before it can no longer be the last.
   * Only the `added` bytes at the end are new, so only they can end an event.
   */
  #keepFromLastEvent(added: number): void {
    const bytes = this.#tail.bytes;
    // A blank line's last LF, searched from the end; at index 0 it has no line before it.
    const first = Math.max(1, bytes.length - added);
    let end = bytes.length;
    while (end > first && !endsBlankLine(bytes, end - 1)) end--;
    if (end <= first) return;
    const event = lastDataEvent(bytes.subarray(0, end));
    this.#tail.dropBefore(event.length > 0 ? event.byteOffset - bytes.byteOffset : end);
  }

  /**
   * What went by, once the body ended. For an SSE stream of two events or more, the mean gap
   * between its events (the last, `[DONE]`, not counted) goes to the gaps histogram: events
   * that came in one chunk count as no gap, as the gateway saw them.
   */
  result(): TapResult {
    const tokens = this.#events - 1;
    if (this.#sse && tokens >= 2) {
      this.#target.gaps?.observe((this.#lastEvent - this.#firstEvent) / (tokens - 1) / 1000);
    }
    return {
      bytes: this.#bytes,
      firstChunk: this.#streamed ? this.#first : undefined,
      usage: this.#usage(),
    };
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

  /** The usage at the body's end: for SSE, in its last event other than `data: [DONE]`. */
  #usage(): TokenUsage | undefined {
    const bytes = this.#tail.bytes;
    if (bytes.length === 0) return undefined;
    return findUsage(this.#sse ? lastDataEvent(bytes) : bytes);
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
    buffer.set(this.bytes);
    this.#buffer = buffer;
  }
}

const DONE = new TextEncoder().encode("[DONE]");

/**
 * The last event at the end of an SSE stream that is not `data: [DONE]`: the one a backend
 * puts its `usage` in, with the stream's final counts. Searching only it keeps a stream that
 * reports no usage from being searched through to its tail's start.
 */
export function lastDataEvent(bytes: Uint8Array): Uint8Array {
  let end = bytes.length;
  for (;;) {
    while (end > 0 && (bytes[end - 1] === 0x0a || bytes[end - 1] === 0x0d)) end--;
    if (end === 0) return bytes.subarray(0, 0);
    let start = end - 1;
    while (start > 0 && !endsBlankLine(bytes, start - 1)) start--;
    if (!endsWith(bytes, end, DONE)) return bytes.subarray(start, end);
    end = start;
  }
}

/** Whether the line feed at `at` ends a blank line: `\n\n` or `\n\r\n`. */
function endsBlankLine(bytes: Uint8Array, at: number): boolean {
  if (bytes[at] !== 0x0a) return false;
  const before = bytes[at - 1];
  return before === 0x0a || (before === 0x0d && bytes[at - 2] === 0x0a);
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

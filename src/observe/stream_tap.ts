/**
 * Watches a response body go by chunk by chunk without touching it: its size, when its first
 * chunk and each next one passed (time to first token, inter-token latency), and, for an SSE
 * stream, the backend's `usage` in its last events.
 * @module
 */
import type { HistogramSeries } from "../metrics/registry.ts";
import { findUsage, type TokenUsage } from "./usage.ts";

/** The most of a stream's end searched for `usage`. */
const TAIL_BYTES = 16384;

/** Where a tap reports. */
export interface TapTarget {
  /** ms since the request arrived, on the record's clock. */
  elapsed(): number;
  /** Where gaps between events go, when the stream is SSE and metrics are on. */
  readonly gaps: HistogramSeries | undefined;
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
  readonly #streamed: boolean;
  /** Whether the end of the body is kept, to read `usage` from. */
  readonly #keepsTail: boolean;
  #bytes = 0;
  #first: number | undefined;
  #last = 0;
  /** The latest chunks, newest last, about `TAIL_BYTES` of them. */
  #tail: Uint8Array[] = [];
  #tailBytes = 0;

  constructor(target: TapTarget, kind: TappedBody) {
    this.#target = target;
    this.#sse = kind === "sse";
    this.#streamed = kind === "sse" || kind === "stream";
    this.#keepsTail = kind === "sse" || kind === "json";
  }

  /** Counts one chunk on its way to the client. */
  chunk(bytes: Uint8Array): void {
    const at = this.#target.elapsed();
    this.#bytes += bytes.byteLength;
    if (this.#first === undefined) this.#first = at;
    else if (this.#sse) this.#target.gaps?.observe((at - this.#last) / 1000);
    this.#last = at;
    if (!this.#keepsTail) return;
    this.#tail.push(bytes);
    this.#tailBytes += bytes.byteLength;
    while (this.#tail.length > 1 && this.#tailBytes - this.#tail[0]!.byteLength >= TAIL_BYTES) {
      this.#tailBytes -= this.#tail.shift()!.byteLength;
    }
  }

  /** What went by, once the body ended. */
  result(): TapResult {
    return {
      bytes: this.#bytes,
      firstChunk: this.#streamed ? this.#first : undefined,
      usage: this.#usage(),
    };
  }

  #usage(): TokenUsage | undefined {
    if (this.#tail.length === 0) return undefined;
    const decoder = new TextDecoder();
    let text = "";
    for (const chunk of this.#tail) text += decoder.decode(chunk, { stream: true });
    return findUsage(text + decoder.decode());
  }
}

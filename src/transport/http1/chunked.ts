/**
 * Decodes a chunked body (RFC 9112 §7.1) as its bytes arrive, in pieces of any size: the data
 * of each chunk is handed on as soon as it is there, without waiting for the chunk's end.
 * Chunk extensions and trailer fields are read and dropped.
 * @module
 */
import { ProtocolError } from "../errors.ts";
import { byteString, CR, LF, lineEndIn, lineTextEnd } from "./syntax.ts";

/** The longest chunk-size or trailer line accepted. */
const MAX_LINE = 8 * 1024;
/** Up to 13 hex digits: sizes stay exact as numbers. */
const CHUNK_SIZE = /^[0-9a-fA-F]{1,13}[ \t]*(?:;.*)?$/;

type State = "size" | "data" | "data-end" | "trailer" | "done";

/** One chunked body's decoding state. */
export class ChunkedDecoder {
  #state: State = "size";
  /** Data bytes left in the current chunk. */
  #left = 0;

  /** The body's last chunk and trailer have been read. */
  get done(): boolean {
    return this.#state === "done";
  }

  /**
   * Decodes what it can of `bytes[start, end)`, calling `data` with the range of each run of
   * body data found, and returns where it stopped: the start of a line not yet whole, or
   * `end`. Throws a {@linkcode ProtocolError} for bytes that are not a chunked body.
   */
  decode(
    bytes: Uint8Array,
    start: number,
    end: number,
    data: (from: number, to: number) => void,
  ): number {
    let at = start;
    while (at < end && this.#state !== "done") {
      if (this.#state === "data") {
        const to = Math.min(end, at + this.#left);
        data(at, to);
        this.#left -= to - at;
        at = to;
        if (this.#left === 0) this.#state = "data-end";
        continue;
      }
      if (this.#state === "data-end") {
        // CRLF, or a bare LF.
        if (bytes[at] === LF) {
          at += 1;
        } else {
          if (end - at < 2) return at;
          if (bytes[at] !== CR || bytes[at + 1] !== LF) {
            throw new ProtocolError("a chunk longer than its size");
          }
          at += 2;
        }
        this.#state = "size";
        continue;
      }
      const lineEnd = lineEndIn(bytes, at, end);
      if (lineEnd < 0) {
        if (end - at > MAX_LINE) throw new ProtocolError("a chunk line too long");
        return at;
      }
      const line = byteString(bytes, at, lineTextEnd(bytes, at, lineEnd));
      at = lineEnd + 1;
      if (this.#state === "trailer") {
        if (line === "") this.#state = "done";
        continue;
      }
      if (!CHUNK_SIZE.test(line)) throw new ProtocolError("a bad chunk size");
      const size = parseInt(line, 16);
      if (size === 0) {
        this.#state = "trailer";
      } else {
        this.#left = size;
        this.#state = "data";
      }
    }
    return at;
  }
}

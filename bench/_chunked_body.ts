/**
 * HTTP/1.1 chunked transfer coding undone as the bytes arrive, for the bench's raw TCP client:
 * a read may end anywhere, inside a size line, a chunk or the CRLF after it.
 * @module
 */

/** One response body's chunked framing, decoded piece by piece. */
export class ChunkedBody {
  /** Bytes left in the current chunk; -1 while reading a size line. */
  #left = -1;
  #sizeLine = "";
  /** Bytes of the CRLF after a chunk still to skip. */
  #skip = 0;
  #ended = false;

  /** Whether the last chunk (size 0) has arrived; anything after it is not read. */
  get ended(): boolean {
    return this.#ended;
  }

  /** The body bytes within the next piece of the message, `bytes`. */
  decode(bytes: Uint8Array): Uint8Array {
    const parts: Uint8Array[] = [];
    let at = 0;
    while (at < bytes.length && !this.#ended) {
      if (this.#skip > 0) {
        const skipped = Math.min(this.#skip, bytes.length - at);
        this.#skip -= skipped;
        at += skipped;
      } else if (this.#left < 0) {
        const newline = bytes.indexOf(0x0a, at);
        const end = newline < 0 ? bytes.length : newline;
        this.#sizeLine += String.fromCharCode(...bytes.subarray(at, end));
        at = end;
        if (newline < 0) break;
        at++;
        const sizeText = this.#sizeLine.trim().split(";", 1)[0] ?? "";
        if (!/^[0-9a-fA-F]+$/.test(sizeText)) {
          throw new Error(`a bad chunk size line "${this.#sizeLine.trim()}"`);
        }
        this.#sizeLine = "";
        this.#left = parseInt(sizeText, 16);
        if (this.#left === 0) this.#ended = true;
      } else {
        const taken = Math.min(this.#left, bytes.length - at);
        parts.push(bytes.subarray(at, at + taken));
        at += taken;
        this.#left -= taken;
        if (this.#left === 0) {
          this.#left = -1;
          this.#skip = 2;
        }
      }
    }
    if (parts.length === 1) return parts[0]!;
    const joined = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
    let offset = 0;
    for (const part of parts) {
      joined.set(part, offset);
      offset += part.length;
    }
    return joined;
  }
}

/**
 * The pieces of HTTP/1.1's syntax that requests and answers share: tokens, lines, and bytes
 * read as byte strings.
 * @module
 */

/** A header name (RFC 9110 §5.6.2). */
export const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Carriage return and line feed, which end every line. */
export const CR = 13;
export const LF = 10;
/** Lines shorter than this are read a byte at a time; longer ones through the decoder. */
const SHORT = 64;

const decoder = new TextDecoder();
// deno-lint-ignore no-control-regex
const ASCII_ONLY = /^[\x00-\x7f]*$/;

/**
 * The index of the first LF in `bytes[from, to)`, or -1. A line ends with CRLF, or with a bare
 * LF, which RFC 9112 §2.2 lets a recipient accept as `fetch` does.
 */
export function lineEndIn(bytes: Uint8Array, from: number, to: number): number {
  // A loop rather than `indexOf`, which would search on to the end of the whole buffer.
  for (let at = from; at < to; at++) if (bytes[at] === LF) return at;
  return -1;
}

/** Where the text of the line ending with the LF at `lf` ends: before its CR, if it has one. */
export function lineTextEnd(bytes: Uint8Array, from: number, lf: number): number {
  return lf > from && bytes[lf - 1] === CR ? lf - 1 : lf;
}

// deno-lint-ignore no-control-regex
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;

/**
 * Whether `text` holds a control character other than a tab: never valid in a field value or a
 * reason phrase (RFC 9110 §5.5), and refused by `Headers` and `Response` if passed on.
 */
export function hasControl(text: string): boolean {
  return CONTROL.test(text);
}

/** `bytes[from, to)` as a byte string, one character per byte, as header values are. */
export function byteString(bytes: Uint8Array, from: number, to: number): string {
  if (to - from >= SHORT) {
    const text = decoder.decode(bytes.subarray(from, to));
    if (ASCII_ONLY.test(text)) return text;
  }
  let bytewise = "";
  for (let index = from; index < to; index++) bytewise += String.fromCharCode(bytes[index]!);
  return bytewise;
}

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

/** The index of the CR of the first CRLF in `bytes[from, to)`, or -1. */
export function lineEndIn(bytes: Uint8Array, from: number, to: number): number {
  for (let at = from + 1; at < to; at++) {
    if (bytes[at] === LF && bytes[at - 1] === CR) return at - 1;
  }
  return -1;
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

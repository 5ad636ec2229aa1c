/**
 * Deno KV's size limits, and the size of a value as the store counts it. KV serialises a value
 * with V8's serialiser before it checks the limits, so a string costs one byte per character
 * only while every character is Latin-1: one character beyond it (a CJK model name) makes the
 * whole string two bytes per UTF-16 unit. Sizes here are therefore in serialised bytes, never
 * in characters.
 *
 * The limits are Deno KV's own (`denokv_proto` `limits.rs`): 65,536 bytes per value and
 * 819,200 bytes (800 KiB) for the keys and values of one atomic commit together.
 * @module
 */
import { serialize } from "node:v8";

/** Largest value KV stores, in serialised bytes. */
export const MAX_VALUE_BYTES = 65_536;
/** Largest atomic commit KV takes: its keys and values together, in bytes. */
export const MAX_COMMIT_BYTES = 819_200;
/** Bytes of a text chunk's content, below {@linkcode MAX_VALUE_BYTES} with room to spare. */
export const CHUNK_BYTES = 60_000;

/** A value the store cannot hold, with the limit it passes; admin writes answer it with 413. */
export class StoreLimitError extends Error {
  /** The serialised bytes of what was to be stored. */
  readonly bytes: number;
  /** The limit it passes, in bytes. */
  readonly limit: number;

  constructor(what: string, bytes: number, limit: number, limitName: string) {
    super(
      `${what} takes ${bytes} bytes in the store, more than Deno KV's limit of ${limit} bytes ` +
        `${limitName}`,
    );
    this.name = "StoreLimitError";
    this.bytes = bytes;
    this.limit = limit;
  }
}

/** Serialised bytes of `value` as KV stores it (V8's serialisation; an upper bound). */
export function storedSize(value: unknown): number {
  return serialize(value).byteLength;
}

/** Serialised bytes of a key (each part with its tag; an upper bound). */
export function keySize(key: Deno.KvKey): number {
  let bytes = 0;
  for (const part of key) {
    if (typeof part === "string") bytes += 2 + new TextEncoder().encode(part).byteLength;
    else if (part instanceof Uint8Array) bytes += 2 + part.byteLength;
    else bytes += 10;
  }
  return bytes;
}

/** Throws {@linkcode StoreLimitError} when `value` is too large for one KV value. */
export function checkValueSize(what: string, value: unknown): void {
  const bytes = storedSize(value);
  if (bytes > MAX_VALUE_BYTES) {
    throw new StoreLimitError(what, bytes, MAX_VALUE_BYTES, "for one value");
  }
}

/** What V8's serialisation adds to a string's characters: a tag and the length. */
const STRING_OVERHEAD = 16;

/**
 * Cuts `text` into chunks of at most `maxBytes` serialised bytes each, never between the two
 * halves of a surrogate pair. Each chunk is measured as KV will store it: V8 keeps a string two
 * bytes a unit once it (or the string it was cut from) holds a character beyond Latin-1, even
 * in a part that holds none. A chunk that does not fit at a byte a unit is cut at two bytes a
 * unit, so each is at least half full, but the last.
 */
export function textChunks(text: string, maxBytes: number = CHUNK_BYTES): string[] {
  const chunks: string[] = [];
  let start = 0;
  while (start < text.length) {
    let end = Math.min(text.length, start + maxBytes);
    if (storedSize(text.slice(start, end)) > maxBytes + STRING_OVERHEAD) {
      end = Math.min(text.length, start + Math.floor(maxBytes / 2));
    }
    if (end < text.length && isHighSurrogate(text.charCodeAt(end - 1))) end--;
    chunks.push(text.slice(start, end));
    start = end;
  }
  return chunks.length === 0 ? [""] : chunks;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

/**
 * Drops a stream's usage-only event — `choices` empty, `usage` an object — which the backend
 * sends because the gateway asked for `usage` the client did not ask for. Only whole events are
 * passed on: the bytes of an event still arriving wait for its end. A chunk is looked at by a
 * byte search for an empty `"choices"` array; only a chunk that has one is cut into events.
 * @module
 */

const encoder = new TextEncoder();
const CHOICES = encoder.encode('"choices"');
const USAGE = encoder.encode('"usage"');
const LF = 0x0a;
const CR = 0x0d;
const EMPTY = new Uint8Array(0);

/** A filter over one SSE stream's chunks. */
export class UsageEventFilter {
  /** The start of an event still arriving. */
  #pending: Uint8Array | undefined;

  /** The bytes of `chunk` (and of the event it completes) to pass on now. */
  pass(chunk: Uint8Array): Uint8Array {
    const pending = this.#pending;
    const bytes = pending === undefined ? chunk : joined(pending, chunk);
    const end = wholeEventsEnd(bytes);
    this.#pending = end < bytes.length ? bytes.slice(end) : undefined;
    return withoutUsageEvents(end < bytes.length ? bytes.subarray(0, end) : bytes);
  }

  /** The bytes still held when the stream ends: passed on as they are. */
  end(): Uint8Array {
    const pending = this.#pending ?? EMPTY;
    this.#pending = undefined;
    return pending;
  }
}

/** Just past the blank line that ends the last whole event in `bytes`; 0 when none does. */
function wholeEventsEnd(bytes: Uint8Array): number {
  for (let i = bytes.length - 1; i > 0; i--) {
    if (bytes[i] !== LF) continue;
    const before = bytes[i - 1];
    if (before === LF || (before === CR && i > 1 && bytes[i - 2] === LF)) return i + 1;
  }
  return 0;
}

/** `bytes` (whole events) without its usage-only events. */
function withoutUsageEvents(bytes: Uint8Array): Uint8Array {
  if (bytes.length === 0 || emptyChoicesAt(bytes, 0, bytes.length) < 0) return bytes;
  const kept: Uint8Array[] = [];
  let size = 0;
  let start = 0;
  while (start < bytes.length) {
    const end = eventEnd(bytes, start);
    const event = bytes.subarray(start, end);
    if (!isUsageOnly(event)) {
      kept.push(event);
      size += event.length;
    }
    start = end;
  }
  if (size === bytes.length) return bytes;
  const out = new Uint8Array(size);
  let at = 0;
  for (const event of kept) {
    out.set(event, at);
    at += event.length;
  }
  return out;
}

/** Just past the blank line ending the event that starts at `from`, or the end of `bytes`. */
function eventEnd(bytes: Uint8Array, from: number): number {
  for (let i = from + 1; i < bytes.length; i++) {
    if (bytes[i] !== LF) continue;
    const before = bytes[i - 1];
    if (before === LF || (before === CR && i - 2 >= from && bytes[i - 2] === LF)) return i + 1;
  }
  return bytes.length;
}

/** An event with `"choices": []` and `"usage": {`. */
function isUsageOnly(event: Uint8Array): boolean {
  return emptyChoicesAt(event, 0, event.length) >= 0 && keyBefore(event, USAGE, 0x7b) >= 0;
}

/** Where `"choices"` with an empty array as its value is in `bytes`, or -1. */
function emptyChoicesAt(bytes: Uint8Array, from: number, to: number): number {
  for (
    let at = indexOf(bytes, CHOICES, from, to);
    at >= 0;
    at = indexOf(bytes, CHOICES, at + 1, to)
  ) {
    let i = skipSpace(bytes, at + CHOICES.length);
    if (bytes[i] !== 0x3a) continue;
    i = skipSpace(bytes, i + 1);
    if (bytes[i] !== 0x5b) continue;
    i = skipSpace(bytes, i + 1);
    if (bytes[i] === 0x5d) return at;
  }
  return -1;
}

/** Where `key` is followed by `:` and a value starting with the byte `opening`, or -1. */
function keyBefore(bytes: Uint8Array, key: Uint8Array, opening: number): number {
  for (
    let at = indexOf(bytes, key, 0, bytes.length);
    at >= 0;
    at = indexOf(bytes, key, at + 1, bytes.length)
  ) {
    let i = skipSpace(bytes, at + key.length);
    if (bytes[i] !== 0x3a) continue;
    i = skipSpace(bytes, i + 1);
    if (bytes[i] === opening) return at;
  }
  return -1;
}

function indexOf(bytes: Uint8Array, needle: Uint8Array, from: number, to: number): number {
  const first = needle[0]!;
  const last = to - needle.length;
  for (
    let at = bytes.indexOf(first, from);
    at >= 0 && at <= last;
    at = bytes.indexOf(first, at + 1)
  ) {
    let i = 1;
    while (i < needle.length && bytes[at + i] === needle[i]) i++;
    if (i === needle.length) return at;
  }
  return -1;
}

function skipSpace(bytes: Uint8Array, from: number): number {
  let i = from;
  while (i < bytes.length) {
    const byte = bytes[i]!;
    if (byte !== 0x20 && byte !== 0x09 && byte !== LF && byte !== CR) break;
    i++;
  }
  return i;
}

function joined(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

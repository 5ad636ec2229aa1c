/**
 * The token counts a backend reports in `usage`, found in a JSON body or in the tail of an SSE
 * stream by reading its bytes from the end: nothing before the last `"usage"` key is decoded,
 * parsed or altered. JSON's structural characters are single bytes in UTF-8, and every byte of
 * a multi-byte character is 0x80 or above, so a byte search cannot match inside one.
 * @module
 */

/** Tokens a backend reported for one request. */
export interface TokenUsage {
  /** Prompt tokens: `prompt_tokens`, or `input_tokens`. */
  readonly input: number;
  /** Generated tokens: `completion_tokens`, or `output_tokens`; 0 for embeddings and rerank. */
  readonly output: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** `usage"`: what follows the opening quote of the key searched for. */
const KEY_REST = encoder.encode('usage"');

/** The counts a usage object's keys feed, by key. */
type CountKey = "prompt" | "completion" | "input" | "output" | "total";
/** The counts read from a usage object; a key whose value is not a count is undefined. */
type Counts = { [key in CountKey]?: number | undefined };
const COUNT_KEYS: readonly [Uint8Array, CountKey][] = [
  [encoder.encode("prompt_tokens"), "prompt"],
  [encoder.encode("completion_tokens"), "completion"],
  [encoder.encode("input_tokens"), "input"],
  [encoder.encode("output_tokens"), "output"],
  [encoder.encode("total_tokens"), "total"],
];

/**
 * The last `"usage": {…}` object in `bytes` (a JSON body, or the last events of a stream), or
 * undefined when there is none, it is `null`, it is cut off or not valid, or it holds no token
 * counts. A rerank's usage with only `total_tokens` counts them as input.
 */
export function findUsage(bytes: Uint8Array): TokenUsage | undefined {
  for (let quote = bytes.length - 1; quote >= 0; quote--) {
    if (bytes[quote] !== QUOTE || !matchesAt(bytes, quote + 1, KEY_REST)) continue;
    let i = skipSpace(bytes, quote + 1 + KEY_REST.length);
    if (bytes[i] !== COLON) continue;
    i = skipSpace(bytes, i + 1);
    if (bytes[i] !== OPEN_BRACE) continue; // `null`, or the key was text inside a string
    const counts = readCounts(bytes, i);
    return counts && tokenUsage(counts);
  }
  return undefined;
}

/** The counts of the object opening at `from`, or undefined when it is cut off or not valid. */
function readCounts(bytes: Uint8Array, from: number): Counts | undefined {
  const counts: Counts = {};
  let i = skipSpace(bytes, from + 1);
  if (bytes[i] === CLOSE_BRACE) return counts;
  for (;;) {
    if (bytes[i] !== QUOTE) return undefined;
    const keyEnd = stringEnd(bytes, i);
    if (keyEnd < 0) return undefined;
    const key = countKey(bytes, i + 1, keyEnd - 1);
    i = skipSpace(bytes, keyEnd);
    if (bytes[i] !== COLON) return undefined;
    i = skipSpace(bytes, i + 1);
    const valueEnd = valueEndAt(bytes, i);
    if (valueEnd < 0) return undefined;
    if (key !== undefined) counts[key] = count(bytes, i, valueEnd);
    i = skipSpace(bytes, valueEnd);
    if (bytes[i] === CLOSE_BRACE) return counts;
    if (bytes[i] !== COMMA) return undefined;
    i = skipSpace(bytes, i + 1);
  }
}

function tokenUsage(counts: Counts): TokenUsage | undefined {
  const input = counts.prompt ?? counts.input;
  const output = counts.completion ?? counts.output;
  if (input === undefined && output === undefined) {
    return counts.total === undefined ? undefined : { input: counts.total, output: 0 };
  }
  return { input: input ?? 0, output: output ?? 0 };
}

/** Which count the key in `bytes[from, to)` names, if any. */
function countKey(bytes: Uint8Array, from: number, to: number): CountKey | undefined {
  for (const [key, name] of COUNT_KEYS) {
    if (key.length === to - from && matchesAt(bytes, from, key)) return name;
  }
  return undefined;
}

/**
 * The value in `bytes[from, to)` as a token count: a whole number, not negative; undefined for
 * anything else (text, `null`, an object, `1.5`, `-1`).
 */
function count(bytes: Uint8Array, from: number, to: number): number | undefined {
  let value = 0;
  for (let i = from; i < to; i++) {
    const digit = bytes[i]! - 0x30;
    if (digit < 0 || digit > 9) return numberCount(bytes, from, to);
    value = value * 10 + digit;
  }
  return to > from ? value : undefined;
}

/** A number written with a fraction or an exponent (`4.0`, `1e3`) that is still a count. */
function numberCount(bytes: Uint8Array, from: number, to: number): number | undefined {
  const first = bytes[from]!;
  if (first !== 0x2d && (first < 0x30 || first > 0x39)) return undefined;
  const value = Number(decoder.decode(bytes.subarray(from, to)));
  return Number.isInteger(value) && value >= 0 ? value : undefined;
}

/**
 * Where the JSON value starting at `from` ends: after a string's closing quote or an object's
 * or array's closing bracket, else at the next `,`, `}` or `]`; -1 when it is cut off.
 */
function valueEndAt(bytes: Uint8Array, from: number): number {
  const first = bytes[from];
  if (first === QUOTE) return stringEnd(bytes, from);
  if (first === OPEN_BRACE || first === OPEN_BRACKET) return nestedEnd(bytes, from);
  for (let i = from; i < bytes.length; i++) {
    const byte = bytes[i]!;
    if (byte === COMMA || byte === CLOSE_BRACE || byte === CLOSE_BRACKET || isSpace(byte)) {
      return i > from ? i : -1;
    }
  }
  return -1;
}

/** Just past the closing quote of the string opening at `from`; -1 when it is cut off. */
function stringEnd(bytes: Uint8Array, from: number): number {
  for (let i = from + 1; i < bytes.length; i++) {
    const byte = bytes[i]!;
    if (byte === BACKSLASH) i++;
    else if (byte === QUOTE) return i + 1;
  }
  return -1;
}

/** Just past the bracket closing the object or array opening at `from`; -1 when cut off. */
function nestedEnd(bytes: Uint8Array, from: number): number {
  let depth = 0;
  for (let i = from; i < bytes.length; i++) {
    const byte = bytes[i]!;
    if (byte === QUOTE) {
      i = stringEnd(bytes, i) - 1;
      if (i < 0) return -1;
    } else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) depth++;
    else if ((byte === CLOSE_BRACE || byte === CLOSE_BRACKET) && --depth === 0) return i + 1;
  }
  return -1;
}

function matchesAt(bytes: Uint8Array, at: number, expected: Uint8Array): boolean {
  if (at + expected.length > bytes.length) return false;
  for (let i = 0; i < expected.length; i++) {
    if (bytes[at + i] !== expected[i]) return false;
  }
  return true;
}

function skipSpace(bytes: Uint8Array, from: number): number {
  let i = from;
  while (i < bytes.length && isSpace(bytes[i]!)) i++;
  return i;
}

function isSpace(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

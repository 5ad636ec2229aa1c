/**
 * The token counts a backend reports in `usage`, found in a JSON body or in the tail of an SSE
 * stream without parsing (or altering) the rest of it.
 * @module
 */

/** Tokens a backend reported for one request. */
export interface TokenUsage {
  /** Prompt tokens: `prompt_tokens`, or `input_tokens`. */
  readonly input: number;
  /** Generated tokens: `completion_tokens`, or `output_tokens`; 0 for embeddings and rerank. */
  readonly output: number;
}

const KEY = '"usage"';

/**
 * The last `"usage": {…}` object in `text` (a JSON body, or the last events of a stream), or
 * undefined when there is none, it is `null`, or it holds no token counts. A rerank's usage
 * with only `total_tokens` counts them as input.
 */
export function findUsage(text: string): TokenUsage | undefined {
  let at = text.length;
  for (;;) {
    at = text.lastIndexOf(KEY, at - 1);
    if (at < 0) return undefined;
    const object = objectAfterKey(text, at + KEY.length);
    if (object === "none") continue;
    if (object === undefined) return undefined;
    return tokenCounts(object);
  }
}

/**
 * The JSON object text that follows `"key"` at `from` (after a colon), `"none"` when the key's
 * value is not an object (e.g. `null`, or the key was text inside a string), or undefined when
 * the object is cut off.
 */
function objectAfterKey(text: string, from: number): string | "none" | undefined {
  let i = skipSpace(text, from);
  if (text[i] !== ":") return "none";
  i = skipSpace(text, i + 1);
  if (text[i] !== "{") return "none";
  const start = i;
  let depth = 0;
  let inString = false;
  for (; i < text.length; i++) {
    const char = text.charCodeAt(i);
    if (inString) {
      if (char === 0x5c) i++; // a backslash escapes the next character
      else if (char === 0x22) inString = false;
    } else if (char === 0x22) inString = true;
    else if (char === 0x7b) depth++;
    else if (char === 0x7d && --depth === 0) return text.slice(start, i + 1);
  }
  return undefined;
}

function skipSpace(text: string, from: number): number {
  let i = from;
  while (
    i < text.length && (text[i] === " " || text[i] === "\t" || text[i] === "\n" || text[i] === "\r")
  ) {
    i++;
  }
  return i;
}

function tokenCounts(objectText: string): TokenUsage | undefined {
  let usage: unknown;
  try {
    usage = JSON.parse(objectText);
  } catch {
    return undefined;
  }
  if (typeof usage !== "object" || usage === null) return undefined;
  const fields = usage as Record<string, unknown>;
  const input = count(fields.prompt_tokens) ?? count(fields.input_tokens);
  const output = count(fields.completion_tokens) ?? count(fields.output_tokens);
  if (input === undefined && output === undefined) {
    const total = count(fields.total_tokens);
    return total === undefined ? undefined : { input: total, output: 0 };
  }
  return { input: input ?? 0, output: output ?? 0 };
}

function count(value: unknown): number | undefined {
  return typeof value === "number" && Number.isInteger(value) && value >= 0 ? value : undefined;
}

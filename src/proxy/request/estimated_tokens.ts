/**
 * A request's size in tokens as routing weighs it before any backend has seen it: its prompt,
 * guessed from its bytes, and the longest answer it allows.
 * @module
 */
import type { ClientBody } from "./body.ts";

/** Bytes of a JSON request body per prompt token, a rough average over English and code. */
export const BYTES_PER_TOKEN = 4;

/** The answer length counted when a request sets no limit of its own. */
export const DEFAULT_ANSWER_TOKENS = 512;

/** The fields that bound an answer's length in the APIs the gateway serves. */
const ANSWER_LIMITS = ["max_tokens", "max_completion_tokens", "max_output_tokens"] as const;

/**
 * What a request will take of an engine, in tokens, as its prompt (`input`: body bytes ÷ 4) and
 * its answer (`output`: its `max_tokens`, or a default).
 */
export function estimatedTokenParts(body: ClientBody): { input: number; output: number } {
  const json = body.json;
  if (json === undefined) return { input: 0, output: 0 };
  let answer = DEFAULT_ANSWER_TOKENS;
  for (const field of ANSWER_LIMITS) {
    const limit = json[field];
    if (typeof limit === "number" && Number.isFinite(limit) && limit >= 0) {
      answer = limit;
      break;
    }
  }
  return { input: Math.ceil(body.bytes.byteLength / BYTES_PER_TOKEN), output: answer };
}

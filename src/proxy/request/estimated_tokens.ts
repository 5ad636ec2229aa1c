/**
 * A request's size in tokens as limits and routing weigh it before any backend has seen it: the
 * prompt and answer of {@linkcode RequestNeeds}, with a default answer for a request that sets no
 * limit of its own.
 * @module
 */
import type { ClientBody } from "./body.ts";
import type { RequestNeeds } from "./needs.ts";

/** The answer length counted when a request sets no limit of its own. */
export const DEFAULT_ANSWER_TOKENS = 512;

/**
 * What a request will take of an engine, in tokens: its prompt (`input`: its text's bytes ÷ 4,
 * inline images and audio left out) and its answer (`output`: its `max_tokens`, or a default).
 * An upload takes none.
 */
export function estimatedTokenParts(
  body: ClientBody,
  needs: RequestNeeds,
): { input: number; output: number } {
  if (body.json === undefined) return { input: 0, output: 0 };
  return {
    input: needs.promptTokens,
    output: needs.maxTokens ?? DEFAULT_ANSWER_TOKENS,
  };
}

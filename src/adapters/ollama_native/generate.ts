/**
 * OpenAI (legacy) completions and Ollama's native `/api/generate`: the request one way, the
 * answer the other. Streamed answers are translated by `ndjsonToSse`.
 * @module
 */
import { finishReason, modelOf, readGenerateAnswer, usageOf } from "./_answer.ts";
import {
  finishDraft,
  GENERATION_FIELDS,
  numPredict,
  translateFields,
  unsupported,
} from "./_request.ts";
import { boolean, integer, invalid, show, string } from "../../lib/request_fields.ts";
import type { TranslationContext } from "./types.ts";

const PATH = "/api/generate";

/**
 * Translates an OpenAI completions request body into an `/api/generate` body; throws a 400
 * `GatewayError` for a field Ollama cannot honour or a malformed one.
 */
export function toOllamaGenerate(
  body: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const draft = translateFields(body, PATH, {
    ...GENERATION_FIELDS,
    prompt(value, param, draft) {
      draft.out.prompt = promptOf(value, param);
    },
    suffix(value, param, draft) {
      draft.out.suffix = string(value, param);
    },
    max_tokens: numPredict,
    best_of(value, param) {
      if (integer(value, param) !== 1) throw unsupported(PATH, param, value);
    },
    // `false` is OpenAI's default and asks for nothing Ollama does not do.
    echo(value, param) {
      if (boolean(value, param)) throw unsupported(PATH, param, value);
    },
    raw(value, param, draft) {
      draft.out.raw = boolean(value, param);
    },
  });
  if (draft.out.prompt === undefined) {
    throw invalid("prompt", 'Request must carry its prompt in the "prompt" field');
  }
  return finishDraft(draft, body, { streams: true });
}

function promptOf(value: unknown, param: string): string {
  if (typeof value === "string") return value;
  if (Array.isArray(value) && value.length > 0) {
    if (value.length === 1 && typeof value[0] === "string") return value[0];
    // Ollama takes one prompt per request, and text rather than token ids.
    const strings = value.every((item) => typeof item === "string");
    const tokens = value.every((item) => typeof item === "number" || Array.isArray(item));
    if (strings || tokens) throw unsupported(PATH, param, value);
  }
  throw invalid(param, `Expected "${param}" to be a string, got ${show(value)}`);
}

/** Translates a non-streamed `/api/generate` answer into an OpenAI `text_completion`. */
export function fromOllamaGenerate(
  answer: unknown,
  context: TranslationContext,
): Record<string, unknown> {
  const generated = readGenerateAnswer(answer);
  const choice: Record<string, unknown> = { index: 0, text: generated.response };
  if (generated.thinking !== "") choice.reasoning_content = generated.thinking;
  choice.finish_reason = finishReason(generated.doneReason, false);
  choice.logprobs = null;
  return {
    id: context.id,
    object: "text_completion",
    created: context.created,
    model: modelOf(generated, context),
    choices: [choice],
    usage: usageOf(generated),
  };
}

/**
 * OpenAI embeddings and Ollama's native `/api/embed`: the request one way, the answer the other.
 * @module
 */
import { badAnswer } from "./_answer.ts";
import { COMMON_FIELDS, finishDraft, translateFields, unsupported } from "./_request.ts";
import { boolean, integer, invalid, isRecord, show } from "../../lib/request_fields.ts";

const PATH = "/api/embed";

/** How the client wants its vectors: JSON numbers, or base64 of little-endian float32s. */
export type EmbedEncoding = "float" | "base64";

/** What {@linkcode fromOllamaEmbed} needs to know about the request. */
export interface EmbedContext {
  /** The model the client asked for, named when the backend's answer names none. */
  readonly model: string;
  /** The encoding the client asked for; read it with {@linkcode embedEncodingOf}. */
  readonly encodingFormat: EmbedEncoding;
}

/**
 * Translates an OpenAI embeddings request body into an `/api/embed` body; throws a 400
 * `GatewayError` for a field Ollama cannot honour or a malformed one.
 */
export function toOllamaEmbed(body: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const draft = translateFields(body, PATH, {
    ...COMMON_FIELDS,
    input(value, param, draft) {
      draft.out.input = inputOf(value, param);
    },
    dimensions(value, param, draft) {
      const dimensions = integer(value, param);
      if (dimensions < 1) {
        throw invalid(param, `Expected "${param}" to be a positive integer, got ${dimensions}`);
      }
      draft.out.dimensions = dimensions;
    },
    // Applied to the answer by fromOllamaEmbed.
    encoding_format: (value, param) => encodingOf(value, param),
    truncate(value, param, draft) {
      draft.out.truncate = boolean(value, param);
    },
  });
  if (draft.out.input === undefined) {
    throw invalid("input", 'Request must carry the text to embed in the "input" field');
  }
  return finishDraft(draft, body, { streams: false });
}

/** The encoding an embeddings request asks for; throws a 400 `GatewayError` for a bad one. */
export function embedEncodingOf(body: Readonly<Record<string, unknown>>): EmbedEncoding {
  return encodingOf(body.encoding_format, "encoding_format");
}

function encodingOf(value: unknown, param: string): EmbedEncoding {
  if (value == null || value === "float") return "float";
  if (value === "base64") return "base64";
  throw invalid(param, `Expected "${param}" to be "float" or "base64", got ${show(value)}`);
}

function inputOf(value: unknown, param: string): string | string[] {
  if (typeof value === "string") return value;
  if (Array.isArray(value) && value.length > 0) {
    if (value.every((item) => typeof item === "string")) return value;
    // Ollama embeds text, not token ids.
    if (value.every((item) => typeof item === "number" || Array.isArray(item))) {
      throw unsupported(PATH, param, value);
    }
  }
  throw invalid(
    param,
    `Expected "${param}" to be a string or a non-empty array of strings, got ${show(value)}`,
  );
}

/** Translates an `/api/embed` answer into OpenAI's embeddings `list`. */
export function fromOllamaEmbed(answer: unknown, context: EmbedContext): Record<string, unknown> {
  if (!isRecord(answer)) throw badAnswer("expected a JSON object", answer);
  const { model, embeddings, prompt_eval_count: tokens } = answer;
  if (model !== undefined && typeof model !== "string") {
    throw badAnswer('expected "model" to be a string', model);
  }
  if (!Array.isArray(embeddings)) {
    throw badAnswer('expected "embeddings" to be an array', embeddings);
  }
  if (tokens != null && !Number.isSafeInteger(tokens)) {
    throw badAnswer('expected "prompt_eval_count" to be an integer', tokens);
  }
  const data = embeddings.map((vector: unknown, index) => {
    if (!Array.isArray(vector) || !vector.every((x) => typeof x === "number")) {
      throw badAnswer(`expected "embeddings[${index}]" to be an array of numbers`, vector);
    }
    const embedding = context.encodingFormat === "base64" ? base64Of(vector) : vector;
    return { object: "embedding", index, embedding };
  });
  const promptTokens = (tokens ?? 0) as number;
  return {
    object: "list",
    data,
    model: model ?? context.model,
    usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
  };
}

/** A vector as OpenAI's base64 encoding gives it: little-endian float32s. */
function base64Of(vector: readonly number[]): string {
  const bytes = new Uint8Array(vector.length * 4);
  const view = new DataView(bytes.buffer);
  vector.forEach((x, index) => view.setFloat32(index * 4, x, true));
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

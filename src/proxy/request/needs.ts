/**
 * What a request needs of the model that serves it, read from its parsed JSON body: image input
 * (vision), tool definitions (tools), audio input or output (audio), and room for its prompt and
 * answer (context). Read only for a pool where what some instance can take is known.
 * @module
 */
import { isRecord } from "../../lib/request_fields.ts";
import type { ClientBody } from "./body.ts";

/** What a request needs of the instance that serves it. */
export interface RequestNeeds {
  /** It carries an image. */
  readonly vision: boolean;
  /** It defines tools or functions the model may call. */
  readonly tools: boolean;
  /** It carries audio, or asks for an answer in audio. */
  readonly audio: boolean;
  /** Estimated prompt tokens: its bytes, less inline image and audio data, divided by 4. */
  readonly promptTokens: number;
  /** The most output tokens it asks for; undefined when it sets no limit. */
  readonly maxTokens: number | undefined;
}

/**
 * Bytes per token in the prompt estimate: no tokenizer, so no exact count. English prose runs
 * 4 to 5 bytes per token in OpenAI's and Llama's tokenizers, and the body's JSON adds bytes, so
 * for it the estimate errs high; text in scripts of several bytes per character errs low.
 */
export const BYTES_PER_TOKEN = 4;

/** The fields that bound an answer's length in the APIs the gateway serves, in this order. */
const ANSWER_LIMITS = ["max_tokens", "max_completion_tokens", "max_output_tokens"] as const;

/** Content part types that carry an image: chat, Anthropic Messages, Responses. */
const IMAGE_PARTS = new Set(["image_url", "image", "input_image"]);

/** What `body` needs; an upload (audio to transcribe, an image to edit) needs nothing. */
export function needsOf(body: ClientBody): RequestNeeds {
  const json = body.json;
  if (json === undefined) return NOTHING;
  const found = { vision: false, audio: false, inlineBytes: 0 };
  for (const messages of [json.messages, json.input]) {
    if (Array.isArray(messages)) { for (const message of messages) readItem(message, found); }
  }
  return {
    vision: found.vision,
    tools: nonEmpty(json.tools) || nonEmpty(json.functions),
    audio: found.audio || (Array.isArray(json.modalities) && json.modalities.includes("audio")),
    promptTokens: tokensIn(body.bytes.byteLength - found.inlineBytes),
    maxTokens: answerLimit(json),
  };
}

const NOTHING: RequestNeeds = {
  vision: false,
  tools: false,
  audio: false,
  promptTokens: 0,
  maxTokens: undefined,
};

/** The first of the answer-limit fields `json` sets to a number, 0 included; undefined without one. */
function answerLimit(json: Readonly<Record<string, unknown>>): number | undefined {
  for (const field of ANSWER_LIMITS) {
    const limit = json[field];
    if (typeof limit === "number" && Number.isFinite(limit) && limit >= 0) return limit;
  }
  return undefined;
}

function tokensIn(bytes: number): number {
  return Math.ceil(Math.max(0, bytes) / BYTES_PER_TOKEN);
}

function nonEmpty(value: unknown): boolean {
  return Array.isArray(value) && value.length > 0;
}

/** What one message, or one Responses input item, carries. */
interface Found {
  vision: boolean;
  audio: boolean;
  /** Bytes of base64 image and audio data: no measure of the tokens they take. */
  inlineBytes: number;
}

/** Reads a message (or input item) whose `content` may hold parts, or a part itself. */
function readItem(item: unknown, found: Found): void {
  if (!isRecord(item)) return;
  readPart(item, found);
  const content = item.content;
  if (Array.isArray(content)) { for (const part of content) readItem(part, found); }
}

function readPart(part: Readonly<Record<string, unknown>>, found: Found): void {
  const type = part.type;
  if (typeof type !== "string") return;
  if (IMAGE_PARTS.has(type)) {
    found.vision = true;
    found.inlineBytes += inlineLength(part.image_url) + inlineLength(part.source);
  } else if (type === "input_audio") {
    found.audio = true;
    found.inlineBytes += inlineLength(part.input_audio);
  }
}

/**
 * The length of inline data: a `data:` URL (a string, or chat's `{url}`), Anthropic's
 * `{type: "base64", data}` source, or chat's `{data}` audio. 0 for a link.
 */
function inlineLength(value: unknown): number {
  if (typeof value === "string") return value.startsWith("data:") ? value.length : 0;
  if (!isRecord(value)) return 0;
  if (typeof value.data === "string") return value.data.length;
  return inlineLength(value.url);
}

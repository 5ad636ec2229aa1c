/**
 * The Response object a translated answer becomes, built the same way whole or streamed.
 * @module
 */
import { isJsonObject, type JsonObject } from "../../lib/json.ts";
import type { ResponseEcho } from "./request.ts";

/** What every Response of one request shares. */
export interface ResponseContext {
  /** `resp_…`, made by the gateway. */
  readonly id: string;
  /** Unix seconds. */
  readonly createdAt: number;
  /** The model the client asked for, shown when the backend names none. */
  readonly model: string;
  readonly echo: ResponseEcho;
}

/** What a Response holds at one point of its life. */
export interface ResponseState {
  readonly status: "in_progress" | "completed" | "incomplete" | "failed";
  readonly model?: string | undefined;
  readonly output: readonly JsonObject[];
  readonly usage: JsonObject | null;
  readonly incompleteReason?: string | undefined;
  readonly error?: { readonly code: string; readonly message: string } | undefined;
}

/** A context for one request; ids are random. */
export function responseContext(
  options: { readonly model: string; readonly echo: ResponseEcho; readonly now: number },
): ResponseContext {
  return {
    id: itemId("resp"),
    createdAt: Math.floor(options.now / 1000),
    model: options.model,
    echo: options.echo,
  };
}

/** A fresh id with OpenAI's prefix for its kind: `resp`, `msg`, `fc`, `rs`. */
export function itemId(prefix: string): string {
  return `${prefix}_${crypto.randomUUID().replaceAll("-", "")}`;
}

/** The Response object, fields in OpenAI's order. */
export function responseObject(context: ResponseContext, state: ResponseState): JsonObject {
  return {
    id: context.id,
    object: "response",
    created_at: context.createdAt,
    status: state.status,
    background: false,
    error: state.error ?? null,
    incomplete_details: state.incompleteReason === undefined
      ? null
      : { reason: state.incompleteReason },
    ...context.echo,
    model: state.model ?? context.model,
    output: state.output,
    usage: state.usage,
  };
}

/**
 * Why a chat answer that ended with `finish_reason` is incomplete, in the Responses API's
 * words; undefined when it is complete.
 */
export function incompleteReason(finishReason: unknown): string | undefined {
  if (finishReason === "length") return "max_output_tokens";
  if (finishReason === "content_filter") return "content_filter";
  return undefined;
}

/** A chat `usage` object in the Responses API's shape; null when the backend sent none. */
export function usageOf(usage: unknown): JsonObject | null {
  if (!isJsonObject(usage)) return null;
  const input = count(usage.prompt_tokens);
  const output = count(usage.completion_tokens);
  const inputDetails = isJsonObject(usage.prompt_tokens_details) ? usage.prompt_tokens_details : {};
  const outputDetails = isJsonObject(usage.completion_tokens_details)
    ? usage.completion_tokens_details
    : {};
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: count(inputDetails.cached_tokens) },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: count(outputDetails.reasoning_tokens) },
    total_tokens: typeof usage.total_tokens === "number" ? usage.total_tokens : input + output,
  };
}

function count(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) ? value : 0;
}

/** An output message item holding `text`, or a refusal. */
export function messageItem(
  id: string,
  content: { readonly text?: string; readonly refusal?: string },
  status: string,
): JsonObject {
  const parts: JsonObject[] = [];
  if (content.text !== undefined) parts.push(outputText(content.text));
  if (content.refusal !== undefined) parts.push({ type: "refusal", refusal: content.refusal });
  return { id, type: "message", status, role: "assistant", content: parts };
}

/** An `output_text` content part. */
export function outputText(text: string): JsonObject {
  return { type: "output_text", text, annotations: [], logprobs: [] };
}

/** A reasoning item holding the backend's reasoning text. */
export function reasoningItem(id: string, text: string, status: string): JsonObject {
  return {
    id,
    type: "reasoning",
    status,
    summary: [],
    content: [{ type: "reasoning_text", text }],
  };
}

/** A function call item. */
export function functionCallItem(
  id: string,
  call: { readonly callId: string; readonly name: string; readonly arguments: string },
  status: string,
): JsonObject {
  return {
    id,
    type: "function_call",
    status,
    arguments: call.arguments,
    call_id: call.callId,
    name: call.name,
  };
}

/** The reasoning text of a chat message or delta: vLLM says `reasoning_content`, others `reasoning`. */
export function reasoningOf(message: JsonObject): string | undefined {
  const reasoning = message.reasoning_content ?? message.reasoning;
  return typeof reasoning === "string" && reasoning !== "" ? reasoning : undefined;
}

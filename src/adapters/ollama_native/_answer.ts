/**
 * Reading Ollama's answers (whole, or one stream line) and building the OpenAI pieces they
 * become. An answer of the wrong shape is a 502: the backend is not speaking Ollama's API.
 * @module
 */
import { GatewayError } from "../../errors.ts";
import { isRecord, show } from "../../lib/request_fields.ts";
import type { TranslationContext } from "./types.ts";

/** A tool call as Ollama reports it. */
export interface OllamaToolCall {
  /** The backend's own id for the call, when it gives one. */
  readonly id: string | undefined;
  readonly name: string;
  readonly arguments: Readonly<Record<string, unknown>>;
}

/** What every answer from `/api/chat` and `/api/generate` has. */
export interface OllamaAnswer {
  readonly model: string | undefined;
  readonly done: boolean;
  readonly doneReason: string | undefined;
  readonly promptTokens: number;
  readonly completionTokens: number;
}

/** An `/api/chat` answer, or one line of its stream. */
export interface ChatAnswer extends OllamaAnswer {
  readonly content: string;
  readonly thinking: string;
  readonly toolCalls: readonly OllamaToolCall[];
}

/** An `/api/generate` answer, or one line of its stream. */
export interface GenerateAnswer extends OllamaAnswer {
  readonly response: string;
  readonly thinking: string;
}

/** OpenAI's `usage` object. */
export interface Usage {
  readonly prompt_tokens: number;
  readonly completion_tokens: number;
  readonly total_tokens: number;
}

/** OpenAI's tool call in an answer. */
export interface ToolCall {
  readonly id: string;
  readonly type: "function";
  readonly function: { readonly name: string; readonly arguments: string };
}

/** The refusal of an answer that does not have the shape Ollama's API gives it. */
export function badAnswer(what: string, value: unknown): GatewayError {
  return new GatewayError(
    502,
    "bad_upstream_response",
    `Cannot read the backend's answer: ${what}, got ${show(value)}`,
  );
}

/** Reads the fields every `/api/chat` and `/api/generate` answer has. */
function readAnswer(value: unknown): OllamaAnswer & { readonly raw: Record<string, unknown> } {
  if (!isRecord(value)) throw badAnswer("expected a JSON object", value);
  const { model, done, done_reason: doneReason } = value;
  if (model !== undefined && typeof model !== "string") {
    throw badAnswer('expected "model" to be a string', model);
  }
  if (done !== undefined && typeof done !== "boolean") {
    throw badAnswer('expected "done" to be a boolean', done);
  }
  if (doneReason != null && typeof doneReason !== "string") {
    throw badAnswer('expected "done_reason" to be a string', doneReason);
  }
  return {
    raw: value,
    model,
    done: done === true,
    doneReason: doneReason ?? undefined,
    promptTokens: count(value, "prompt_eval_count"),
    completionTokens: count(value, "eval_count"),
  };
}

function count(answer: Record<string, unknown>, key: string): number {
  const value = answer[key];
  if (value == null) return 0;
  if (!Number.isSafeInteger(value)) throw badAnswer(`expected "${key}" to be an integer`, value);
  return value as number;
}

function text(value: unknown, key: string): string {
  if (value == null) return "";
  if (typeof value !== "string") throw badAnswer(`expected "${key}" to be a string`, value);
  return value;
}

/** Reads an `/api/chat` answer or stream line. */
export function readChatAnswer(value: unknown): ChatAnswer {
  const { raw, ...answer } = readAnswer(value);
  const message = raw.message;
  if (!isRecord(message)) throw badAnswer('expected "message" to be an object', message);
  if (typeof message.content !== "string") {
    throw badAnswer('expected "message.content" to be a string', message.content);
  }
  return {
    ...answer,
    content: message.content,
    thinking: text(message.thinking, "message.thinking"),
    toolCalls: readToolCalls(message.tool_calls),
  };
}

/** Reads an `/api/generate` answer or stream line. */
export function readGenerateAnswer(value: unknown): GenerateAnswer {
  const { raw, ...answer } = readAnswer(value);
  if (typeof raw.response !== "string") {
    throw badAnswer('expected "response" to be a string', raw.response);
  }
  return { ...answer, response: raw.response, thinking: text(raw.thinking, "thinking") };
}

function readToolCalls(value: unknown): OllamaToolCall[] {
  if (value == null) return [];
  if (!Array.isArray(value)) throw badAnswer('expected "message.tool_calls" to be an array', value);
  return value.map((call: unknown, index) => {
    const where = `message.tool_calls[${index}]`;
    if (!isRecord(call) || !isRecord(call.function)) {
      throw badAnswer(`expected "${where}" to be an object with a "function" object`, call);
    }
    const { name, arguments: args } = call.function;
    if (typeof name !== "string") {
      throw badAnswer(`expected "${where}.function.name" to be a string`, name);
    }
    // Go encodes a call without arguments as `null`: it is a call with none.
    if (args != null && !isRecord(args)) {
      throw badAnswer(`expected "${where}.function.arguments" to be an object`, args);
    }
    const id = typeof call.id === "string" && call.id !== "" ? call.id : undefined;
    return { id, name, arguments: args ?? {} };
  });
}

/** The model an answer names, else the one the client asked for. */
export function modelOf(answer: OllamaAnswer, context: TranslationContext): string {
  return answer.model ?? context.model;
}

/** OpenAI's `usage` for an answer's token counts. */
export function usageOf(answer: OllamaAnswer): Usage {
  return {
    prompt_tokens: answer.promptTokens,
    completion_tokens: answer.completionTokens,
    total_tokens: answer.promptTokens + answer.completionTokens,
  };
}

/** OpenAI's `finish_reason` for an answer that ended so. */
export function finishReason(
  doneReason: string | undefined,
  calledTools: boolean,
): "tool_calls" | "length" | "stop" {
  if (calledTools) return "tool_calls";
  return doneReason === "length" ? "length" : "stop";
}

/**
 * OpenAI's form of the `index`th tool call of an answer. Ollama's own id is kept when it gives
 * one; otherwise the id is made unique by the index and the response id.
 */
export function toolCallOf(
  call: OllamaToolCall,
  index: number,
  context: TranslationContext,
): ToolCall {
  const unique = context.id.slice(context.id.indexOf("-") + 1);
  return {
    id: call.id ?? `call_${index}_${unique}`,
    type: "function",
    function: { name: call.name, arguments: JSON.stringify(call.arguments) },
  };
}

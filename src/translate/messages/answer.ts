/**
 * An OpenAI chat completion as an Anthropic Messages answer: reasoning, text and tool calls as
 * content blocks, the finish reason as a stop reason, and the usage.
 * @module
 */
import { GatewayError } from "../../errors.ts";
import { isRecord } from "../../lib/request_fields.ts";
import type { ContentBlock, Message, StopReason, Usage } from "./types.ts";

/** What an answer needs to know about its request. */
export interface AnswerContext {
  /** The message id, `msg_…`. */
  readonly id: string;
  /** The model the client asked for. */
  readonly model: string;
  /** The request's `stop_sequences`, to tell which one ended the answer. */
  readonly stopSequences: readonly string[];
}

/** A chat completion as a Messages answer; throws a 502 when it is not one. */
export function fromChatCompletion(completion: unknown, context: AnswerContext): Message {
  const choice = isRecord(completion) && Array.isArray(completion.choices)
    ? completion.choices[0]
    : undefined;
  if (!isRecord(choice) || !isRecord(choice.message)) {
    throw badAnswer("a chat completion without choices[0].message");
  }
  const message = choice.message;
  const content: ContentBlock[] = [];
  const reasoning = reasoningOf(message);
  if (reasoning) content.push({ type: "thinking", thinking: reasoning, signature: "" });
  if (typeof message.content === "string" && message.content !== "") {
    content.push({ type: "text", text: message.content });
  }
  const calls = Array.isArray(message.tool_calls) ? message.tool_calls : [];
  calls.forEach((call, index) => {
    const fn = isRecord(call) && isRecord(call.function) ? call.function : undefined;
    if (!isRecord(call) || !fn || typeof fn.name !== "string") {
      throw badAnswer(`a tool call without a function name (tool_calls[${index}])`);
    }
    content.push({
      type: "tool_use",
      id: typeof call.id === "string" && call.id !== "" ? call.id : toolUseId(),
      name: fn.name,
      input: toolInput(fn.arguments, index),
    });
  });
  const stop = stopOf(choice, context.stopSequences);
  return {
    id: context.id,
    type: "message",
    role: "assistant",
    model: context.model,
    content,
    stop_reason: stop.reason,
    stop_sequence: stop.sequence,
    usage: usageOf(isRecord(completion) ? completion.usage : undefined),
  };
}

/** The reasoning a backend sent beside the content: `reasoning_content` or `reasoning`. */
export function reasoningOf(message: Record<string, unknown>): string | undefined {
  const reasoning = message.reasoning_content ?? message.reasoning;
  return typeof reasoning === "string" && reasoning !== "" ? reasoning : undefined;
}

/** A tool call's `arguments` (JSON text) as the `input` object; throws a 502 if not JSON. */
export function toolInput(text: unknown, index: number): unknown {
  if (text === undefined || text === null || text === "") return {};
  if (typeof text !== "string") return text;
  try {
    return JSON.parse(text);
  } catch {
    throw badAnswer(`tool call arguments that are not JSON (tool_calls[${index}])`);
  }
}

/**
 * Why the answer ended: `stop` is `end_turn`, or `stop_sequence` when the backend names the
 * sequence it stopped at (vLLM's `stop_reason`); `length` is `max_tokens`; `tool_calls` is
 * `tool_use`; `content_filter` is `refusal`.
 */
export function stopOf(
  choice: Record<string, unknown>,
  stopSequences: readonly string[],
): { reason: StopReason | null; sequence: string | null } {
  switch (choice.finish_reason) {
    case "length":
      return { reason: "max_tokens", sequence: null };
    case "tool_calls":
    case "function_call":
      return { reason: "tool_use", sequence: null };
    case "content_filter":
      return { reason: "refusal", sequence: null };
    case null:
    case undefined:
      return { reason: null, sequence: null };
  }
  const matched = choice.stop_reason;
  if (typeof matched === "string" && stopSequences.includes(matched)) {
    return { reason: "stop_sequence", sequence: matched };
  }
  return { reason: "end_turn", sequence: null };
}

/** OpenAI's usage as Anthropic's: prompt tokens in, completion tokens out. */
export function usageOf(usage: unknown): Usage {
  const count = (value: unknown) => typeof value === "number" && value >= 0 ? value : 0;
  return isRecord(usage)
    ? { input_tokens: count(usage.prompt_tokens), output_tokens: count(usage.completion_tokens) }
    : { input_tokens: 0, output_tokens: 0 };
}

/** A tool use id for a call the backend gave none. */
export function toolUseId(): string {
  return `toolu_${crypto.randomUUID().replaceAll("-", "")}`;
}

/** The backend's answer is not what a chat backend sends. */
export function badAnswer(what: string): GatewayError {
  return new GatewayError(502, "bad_upstream_response", `The backend answered with ${what}`);
}

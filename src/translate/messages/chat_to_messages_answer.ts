/**
 * An Anthropic Messages answer as an OpenAI `chat.completion`, and the pieces a streamed answer
 * shares with it: finish reasons and usage.
 * @module
 */
import { GatewayError } from "../../errors.ts";
import { AnthropicMessage, type AnthropicUsage } from "./backend_types.ts";
import { show } from "../../lib/request_fields.ts";

/** The request an answer belongs to; the caller makes the id and reads the clock. */
export interface AnswerContext {
  /** The response id, `chatcmpl-…`. */
  readonly id: string;
  /** When the answer was made, in unix seconds. */
  readonly created: number;
}

/** OpenAI's `usage` object. */
export interface Usage {
  readonly prompt_tokens: number;
  readonly completion_tokens: number;
  readonly total_tokens: number;
  readonly prompt_tokens_details?: { readonly cached_tokens: number };
}

const FINISH_REASONS: Readonly<Record<string, string>> = {
  end_turn: "stop",
  stop_sequence: "stop",
  // The backend paused a long turn; the client sees a finished one it may continue.
  pause_turn: "stop",
  max_tokens: "length",
  model_context_window_exceeded: "length",
  tool_use: "tool_calls",
  refusal: "content_filter",
};

/** OpenAI's `finish_reason` for an Anthropic `stop_reason`; an unknown one reads as `stop`. */
export function finishReason(stopReason: string | null | undefined): string {
  return (stopReason != null ? FINISH_REASONS[stopReason] : undefined) ?? "stop";
}

/**
 * OpenAI's usage for Anthropic's: prompt tokens include those written to and read from the
 * prompt cache, which Anthropic counts apart from `input_tokens`.
 */
export function usageOf(usage: AnthropicUsage): Usage {
  const cached = usage.cache_read_input_tokens ?? 0;
  const prompt = (usage.input_tokens ?? 0) + (usage.cache_creation_input_tokens ?? 0) + cached;
  const completion = usage.output_tokens ?? 0;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    ...(cached > 0 ? { prompt_tokens_details: { cached_tokens: cached } } : {}),
  };
}

/** The refusal of an answer that does not have the shape Anthropic's API gives it. */
export function badAnswer(what: string, value: unknown): GatewayError {
  return new GatewayError(
    502,
    "bad_upstream_response",
    `Cannot read the backend's answer: ${what}, got ${show(value)}`,
  );
}

/**
 * Translates a whole Messages answer into a `chat.completion`: text blocks joined as the
 * content, `tool_use` blocks as tool calls with JSON string arguments, thinking as
 * `reasoning_content`. Throws a 502 `GatewayError` for an answer of another shape.
 */
export function fromMessagesAnswer(
  answer: unknown,
  context: AnswerContext,
): Record<string, unknown> {
  const parsed = AnthropicMessage.safeParse(answer);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw badAnswer(
      `expected a Messages answer (${issue?.path.join(".") || "body"}: ${issue?.message})`,
      answer,
    );
  }
  const message = parsed.data;
  let text = "";
  let thinking = "";
  const toolCalls: Record<string, unknown>[] = [];
  for (const block of message.content) {
    if (block.type === "text") text += block.text;
    else if (block.type === "thinking") thinking += block.thinking;
    else if (block.type === "tool_use") {
      toolCalls.push({
        id: block.id,
        type: "function",
        function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) },
      });
    }
  }
  const out: Record<string, unknown> = {
    role: "assistant",
    content: toolCalls.length > 0 && text === "" ? null : text,
  };
  if (thinking !== "") out.reasoning_content = thinking;
  if (toolCalls.length > 0) out.tool_calls = toolCalls;
  return {
    id: context.id,
    object: "chat.completion",
    created: context.created,
    model: message.model,
    choices: [{
      index: 0,
      message: out,
      finish_reason: finishReason(message.stop_reason),
      logprobs: null,
    }],
    usage: usageOf(message.usage),
  };
}

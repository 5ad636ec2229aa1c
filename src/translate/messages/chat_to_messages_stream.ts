/**
 * Anthropic's streamed Messages answer (server-sent events: `message_start`,
 * `content_block_start`/`delta`/`stop`, `message_delta`, `message_stop`, `ping`, `error`) as
 * OpenAI's chat-completion chunks, translated event by event as they arrive.
 * @module
 */
import { createParser, type EventSourceMessage } from "eventsource-parser";
import type { ErrorBody } from "../../errors.ts";
import { AnthropicStreamEvent, type AnthropicUsage } from "./backend_types.ts";
import { type AnswerContext, finishReason, usageOf } from "./chat_to_messages_answer.ts";
import { isRecord, show } from "../../lib/request_fields.ts";

/** Options for {@linkcode messagesStreamToChatStream}. */
export interface StreamTranslation extends AnswerContext {
  /** The model the client asked for, named until the backend names its own. */
  readonly model: string;
  /** The client's `stream_options.include_usage`: end with a chunk holding only `usage`. */
  readonly includeUsage: boolean;
}

/** Where the streamed answer's bytes come from. */
export type ByteSource = Pick<ReadableStreamDefaultReader<Uint8Array>, "read" | "cancel">;

/** The event types this translation reads; others (Anthropic may add some) are skipped. */
const KNOWN_EVENTS = new Set([
  "message_start",
  "content_block_start",
  "content_block_delta",
  "content_block_stop",
  "message_delta",
  "message_stop",
  "ping",
  "error",
]);

const encoder = new TextEncoder();
const DONE = encoder.encode("data: [DONE]\n\n");

/** What one event of the backend's stream becomes. */
type Step =
  | { readonly kind: "chunks"; readonly chunks: readonly Record<string, unknown>[] }
  | { readonly kind: "done"; readonly chunks: readonly Record<string, unknown>[] }
  | { readonly kind: "error"; readonly message: string; readonly code: string };

/**
 * Translates a Messages event stream into OpenAI's SSE stream of `chat.completion.chunk`s,
 * ending with `data: [DONE]`: the role first (once the first content block starts, so that an
 * error before any content is still the stream's first event), content and tool-call deltas
 * (id and name first, then argument fragments), the finish reason, and a usage chunk when asked
 * for. An `error` event, an event that cannot be read, or a stream that ends before
 * `message_stop` becomes one error event in OpenAI's shape that ends the stream. Reads the
 * source only as fast as the returned stream is read; cancelling it cancels the source.
 */
export function messagesStreamToChatStream(
  source: ByteSource,
  options: StreamTranslation,
): ReadableStream<Uint8Array> {
  const translate = eventTranslator(options);
  const decoder = new TextDecoder();
  const pending: Uint8Array[] = [];
  let finished = false;
  const end = (...bytes: Uint8Array[]) => {
    pending.push(...bytes);
    finished = true;
    // Whatever follows the last event is not read: let the source go.
    source.cancel().catch(() => {});
  };
  const parser = createParser({
    onEvent(message) {
      if (finished) return;
      const step = translate(message);
      if (step.kind === "error") return end(errorEvent(step.message, step.code));
      for (const chunk of step.chunks) pending.push(dataEvent(chunk));
      if (step.kind === "done") end(DONE);
    },
  });

  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        while (pending.length === 0 && !finished) {
          const { done, value } = await source.read();
          if (finished) break;
          if (done) {
            parser.feed(decoder.decode());
            if (!finished) end(errorEvent("The backend ended the stream early", "backend_error"));
            break;
          }
          parser.feed(decoder.decode(value, { stream: true }));
        }
      } catch (error) {
        if (finished) return;
        finished = true;
        controller.error(error);
        return;
      }
      for (const bytes of pending.splice(0)) controller.enqueue(bytes);
      if (finished) controller.close();
    },
    cancel(reason) {
      finished = true;
      return source.cancel(reason);
    },
  }, { highWaterMark: 0 });
}

function dataEvent(data: unknown): Uint8Array {
  return encoder.encode(`data: ${JSON.stringify(data)}\n\n`);
}

function errorEvent(message: string, code: string): Uint8Array {
  const body: ErrorBody = { error: { message, type: "upstream_error", param: null, code } };
  return dataEvent(body);
}

/** The translation of one event after another, keeping what the stream has told so far. */
function eventTranslator(options: StreamTranslation): (message: EventSourceMessage) => Step {
  let model = options.model;
  let started = false;
  let usage: AnthropicUsage = {};
  let stopReason: string | null | undefined;
  /** OpenAI's tool-call index of each content block that is a tool call. */
  const toolIndexOfBlock = new Map<number, number>();

  const chunk = (delta: Record<string, unknown>, finish: string | null = null) => {
    const out: Record<string, unknown> = {
      id: options.id,
      object: "chat.completion.chunk",
      created: options.created,
      model,
      choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }],
    };
    if (options.includeUsage) out.usage = null;
    return out;
  };
  /** The chunks for `delta`, after the role chunk if none went yet. */
  const withRole = (delta?: Record<string, unknown>): Record<string, unknown>[] => {
    const chunks: Record<string, unknown>[] = [];
    if (!started) {
      started = true;
      chunks.push(chunk({ role: "assistant", content: "" }));
    }
    if (delta !== undefined) chunks.push(chunk(delta));
    return chunks;
  };

  return function translateEvent(message) {
    let value: unknown;
    try {
      value = JSON.parse(message.data);
    } catch {
      return unreadable(`an event that is not JSON: ${show(message.data)}`);
    }
    const type = isRecord(value) ? value.type : undefined;
    if (typeof type !== "string") return unreadable(`an event without a type: ${show(value)}`);
    if (!KNOWN_EVENTS.has(type)) return { kind: "chunks", chunks: [] };
    const parsed = AnthropicStreamEvent.safeParse(value);
    if (!parsed.success) return unreadable(`a malformed ${type} event: ${show(value)}`);
    const event = parsed.data;
    switch (event.type) {
      case "message_start":
        model = event.message.model || model;
        usage = { ...usage, ...definedOf(event.message.usage) };
        return { kind: "chunks", chunks: [] };
      case "content_block_start": {
        const block = event.content_block;
        if (block.type === "text" && block.text !== "") {
          return { kind: "chunks", chunks: withRole({ content: block.text }) };
        }
        if (block.type === "tool_use") {
          const index = toolIndexOfBlock.size;
          toolIndexOfBlock.set(event.index, index);
          return {
            kind: "chunks",
            chunks: withRole({
              tool_calls: [{
                index,
                id: block.id,
                type: "function",
                function: { name: block.name, arguments: "" },
              }],
            }),
          };
        }
        return { kind: "chunks", chunks: withRole() };
      }
      case "content_block_delta": {
        const delta = event.delta;
        if (delta.type === "text_delta") {
          return { kind: "chunks", chunks: withRole({ content: delta.text }) };
        }
        if (delta.type === "thinking_delta") {
          return { kind: "chunks", chunks: withRole({ reasoning_content: delta.thinking }) };
        }
        if (delta.type === "input_json_delta") {
          const index = toolIndexOfBlock.get(event.index);
          if (index === undefined) {
            return unreadable(`arguments for block ${event.index}, which is not a tool call`);
          }
          if (delta.partial_json === "") return { kind: "chunks", chunks: [] };
          return {
            kind: "chunks",
            chunks: withRole({
              tool_calls: [{ index, function: { arguments: delta.partial_json } }],
            }),
          };
        }
        return { kind: "chunks", chunks: [] };
      }
      case "message_delta":
        stopReason = event.delta.stop_reason ?? stopReason;
        usage = { ...usage, ...definedOf(event.usage) };
        return { kind: "chunks", chunks: [] };
      case "message_stop": {
        const chunks = withRole();
        chunks.push(chunk({}, finishReason(stopReason)));
        if (options.includeUsage) {
          chunks.push({
            id: options.id,
            object: "chat.completion.chunk",
            created: options.created,
            model,
            choices: [],
            usage: usageOf(usage),
          });
        }
        return { kind: "done", chunks };
      }
      case "error":
        return { kind: "error", message: event.error.message, code: event.error.type };
      case "content_block_stop":
      case "ping":
        return { kind: "chunks", chunks: [] };
    }
  };
}

function unreadable(what: string): Step {
  return { kind: "error", message: `The backend sent ${what}`, code: "bad_upstream_response" };
}

/** The counts `usage` gives, without those it leaves out or sets to null. */
function definedOf(usage: AnthropicUsage | undefined): AnthropicUsage {
  if (usage === undefined) return {};
  return Object.fromEntries(Object.entries(usage).filter(([, count]) => count != null));
}

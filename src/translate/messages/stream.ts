/**
 * An OpenAI chat completions stream as Anthropic's Messages event stream, translated event by
 * event as it arrives: `message_start` and a `ping`, then each content block's `content_block_start`,
 * deltas and `content_block_stop`, then `message_delta` with the stop reason and usage, and
 * `message_stop`. An error from the backend becomes an `error` event that ends the stream.
 * @module
 */
import { createParser, type EventSourceMessage } from "eventsource-parser";
import { errorBody, errorEvent, errorMessageOf } from "./errors.ts";
import { isRecord } from "../../lib/request_fields.ts";
import { stopOf, toolUseId, usageOf } from "./answer.ts";
import type { AnswerContext } from "./answer.ts";
import type { StopReason, Usage } from "./types.ts";

const encoder = new TextEncoder();

/** The block being streamed: its index, and which chat delta feeds it. */
type OpenBlock =
  | { readonly kind: "text" | "thinking"; readonly index: number }
  | { readonly kind: "tool"; readonly index: number; readonly call: number };

/** Translates a chat SSE stream; reading the result reads the source, cancelling cancels it. */
export function chatSseToMessages(
  source: ReadableStream<Uint8Array>,
  context: AnswerContext,
): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  const decoder = new TextDecoder();
  const out: Uint8Array[] = [];
  let started = false;
  let finished = false;
  let blocks = 0;
  let open: OpenBlock | undefined;
  /** The block of each chat tool call index. */
  const toolBlocks = new Map<number, number>();
  let stop: { reason: StopReason | null; sequence: string | null } = {
    reason: null,
    sequence: null,
  };
  let usage: Usage | undefined;

  const emit = (type: string, data: Record<string, unknown>) => {
    out.push(encoder.encode(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`));
  };
  const start = () => {
    if (started) return;
    started = true;
    emit("message_start", {
      message: {
        id: context.id,
        type: "message",
        role: "assistant",
        model: context.model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: 0, output_tokens: 0 },
      },
    });
    // As Anthropic's own streams do: a client's event loop meets every type it must ignore.
    emit("ping", {});
  };
  const closeBlock = () => {
    if (open === undefined) return;
    emit("content_block_stop", { index: open.index });
    open = undefined;
  };
  const openBlock = (block: OpenBlock, contentBlock: Record<string, unknown>) => {
    closeBlock();
    open = block;
    emit("content_block_start", { index: block.index, content_block: contentBlock });
  };
  const text = (kind: "text" | "thinking", value: string) => {
    if (open?.kind !== kind) {
      openBlock(
        { kind, index: blocks++ },
        kind === "text"
          ? { type: "text", text: "" }
          : { type: "thinking", thinking: "", signature: "" },
      );
    }
    emit("content_block_delta", {
      index: open!.index,
      delta: kind === "text"
        ? { type: "text_delta", text: value }
        : { type: "thinking_delta", thinking: value },
    });
  };
  const toolCall = (call: Record<string, unknown>, position: number) => {
    const callIndex = typeof call.index === "number" ? call.index : position;
    const fn = isRecord(call.function) ? call.function : {};
    let index = toolBlocks.get(callIndex);
    if (index === undefined) {
      index = blocks++;
      toolBlocks.set(callIndex, index);
      openBlock({ kind: "tool", index, call: callIndex }, {
        type: "tool_use",
        id: typeof call.id === "string" && call.id !== "" ? call.id : toolUseId(),
        name: typeof fn.name === "string" ? fn.name : "",
        input: {},
      });
    }
    if (typeof fn.arguments === "string" && fn.arguments !== "") {
      emit("content_block_delta", {
        index,
        delta: { type: "input_json_delta", partial_json: fn.arguments },
      });
    }
  };
  const end = () => {
    start();
    closeBlock();
    const counted = usage ?? { input_tokens: 0, output_tokens: 0 };
    emit("message_delta", {
      delta: { stop_reason: stop.reason ?? "end_turn", stop_sequence: stop.sequence },
      usage: { input_tokens: counted.input_tokens, output_tokens: counted.output_tokens },
    });
    emit("message_stop", {});
    finished = true;
  };
  const fail = (message: string, status: number = 502) => {
    out.push(errorEvent(errorBody(status, message)));
    finished = true;
  };

  const onEvent = (event: EventSourceMessage) => {
    if (finished) return;
    if (event.data === "[DONE]") return end();
    let chunk: unknown;
    try {
      chunk = JSON.parse(event.data);
    } catch {
      return fail(`The backend sent an event that is not JSON: ${event.data.slice(0, 200)}`);
    }
    if (event.event === "error" || (isRecord(chunk) && chunk.error != null)) {
      const error = isRecord(chunk) ? chunk.error : undefined;
      return fail(
        errorMessageOf(event.data) || "The backend's stream ended with an error",
        isRecord(error) ? statusOf(error) : undefined,
      );
    }
    if (!isRecord(chunk)) return;
    if (chunk.usage != null) usage = usageOf(chunk.usage);
    const choice = Array.isArray(chunk.choices) ? chunk.choices[0] : undefined;
    if (!isRecord(choice)) {
      // The usage chunk that ends a stream, or an event without content.
      return;
    }
    start();
    const delta = isRecord(choice.delta) ? choice.delta : {};
    const reasoning = delta.reasoning_content ?? delta.reasoning;
    if (typeof reasoning === "string" && reasoning !== "") text("thinking", reasoning);
    if (typeof delta.content === "string" && delta.content !== "") text("text", delta.content);
    if (Array.isArray(delta.tool_calls)) {
      delta.tool_calls.forEach((call, position) => {
        if (isRecord(call)) toolCall(call, position);
      });
    }
    if (choice.finish_reason != null) stop = stopOf(choice, context.stopSequences);
  };
  const parser = createParser({ onEvent });

  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        while (out.length === 0 && !finished) {
          const { done, value } = await reader.read();
          if (done) {
            parser.feed(decoder.decode());
            if (!finished) {
              if (stop.reason === null) fail("The backend ended the stream before it finished");
              else end();
            }
            break;
          }
          parser.feed(decoder.decode(value, { stream: true }));
        }
      } catch (error) {
        finished = true;
        controller.error(error);
        return;
      }
      for (const bytes of out.splice(0)) controller.enqueue(bytes);
      if (finished) {
        controller.close();
        // Whatever follows the end is not read: let the source go.
        reader.cancel().catch(() => {});
      }
    },
    cancel(reason) {
      finished = true;
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
}

/** The status an error in a chat stream names in its `code` or `status` (vLLM's), if any. */
function statusOf(error: Record<string, unknown>): number | undefined {
  for (const value of [error.code, error.status]) {
    const status = typeof value === "string" ? Number(value) : value;
    if (typeof status === "number" && status >= 400 && status < 600) return status;
  }
  return undefined;
}

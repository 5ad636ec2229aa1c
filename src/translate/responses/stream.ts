/**
 * A chat-completions SSE stream as the Responses API's event stream, translated chunk by chunk
 * as it arrives: `response.created` and `response.in_progress` with the first chunk, then the
 * output items' events, and `response.completed` (or `response.incomplete`) with the usage.
 * @module
 */
import { createParser } from "eventsource-parser";
import { chunkReader } from "../../lib/chunk_reader.ts";
import type { StreamFailure } from "../../proxy/exchange.ts";
import { isJsonObject, type JsonObject } from "../../lib/json.ts";
import {
  functionCallItem,
  incompleteReason,
  itemId,
  messageItem,
  outputText,
  reasoningItem,
  reasoningOf,
  type ResponseContext,
  responseObject,
  usageOf,
} from "./_response.ts";
import { show } from "./_fields.ts";

/** The translated stream, and the events that end it when the backend's breaks off. */
export interface ResponseEventStream {
  readonly body: ReadableStream<Uint8Array>;
  /**
   * The last events for the client when the backend's stream broke off: `error`, then
   * `response.failed` when the response was announced.
   */
  farewell(failure: StreamFailure): Uint8Array;
}

/** One output item being streamed. */
type OpenItem =
  | {
    readonly kind: "message";
    readonly id: string;
    readonly index: number;
    /** Its content parts in the order they began: text, a refusal, or both. */
    readonly parts: MessagePart[];
  }
  | { readonly kind: "reasoning"; readonly id: string; readonly index: number; text: string }
  | {
    readonly kind: "call";
    readonly id: string;
    readonly index: number;
    readonly callId: string;
    name: string;
    arguments: string;
  };

/** A content part of a message being streamed. */
interface MessagePart {
  readonly type: "output_text" | "refusal";
  text: string;
}

const encoder = new TextEncoder();

/**
 * Translates a chat-completions SSE stream. A chunk that is not JSON, or a stream that ends
 * before its last chunk, fails the returned stream (its reader then sends the `farewell`); an
 * error event from the backend ends it with `error` (and `response.failed`). Reads the source
 * only as fast as the returned stream is read; cancelling it cancels the source.
 */
export function chatStreamToResponses(
  source: ReadableStream<Uint8Array>,
  context: ResponseContext,
): ResponseEventStream {
  const reader = chunkReader(source);
  const decoder = new TextDecoder();
  const events: string[] = [];
  const parser = createParser({ onEvent: (event) => events.push(event.data) });
  let pending = "";
  let sequence = 0;
  let started = false;
  let finished = false;
  let model: string | undefined;
  let finishReason: unknown = null;
  let usage: unknown;
  const items: OpenItem[] = [];
  let message: Extract<OpenItem, { kind: "message" }> | undefined;
  let reasoning: Extract<OpenItem, { kind: "reasoning" }> | undefined;
  const calls = new Map<number, Extract<OpenItem, { kind: "call" }>>();

  const emit = (type: string, fields: JsonObject) => {
    const data = JSON.stringify({ type, ...fields, sequence_number: sequence++ });
    pending += `event: ${type}\ndata: ${data}\n\n`;
  };
  const snapshot = (status: "in_progress" | "completed" | "incomplete" | "failed") => {
    const itemStatus = status === "completed" ? "completed" : "incomplete";
    return responseObject(context, {
      status,
      model,
      output: status === "in_progress" ? [] : items.map((item) => finalItem(item, itemStatus)),
      usage: status === "in_progress" || status === "failed" ? null : usageOf(usage),
      incompleteReason: status === "incomplete" ? incompleteReason(finishReason) : undefined,
    });
  };
  const start = () => {
    if (started) return;
    started = true;
    emit("response.created", { response: snapshot("in_progress") });
    emit("response.in_progress", { response: snapshot("in_progress") });
  };
  const openItem = (item: OpenItem, added: JsonObject) => {
    items.push(item);
    emit("response.output_item.added", { output_index: item.index, item: added });
  };
  const openMessage = () => {
    if (message !== undefined) return message;
    message = { kind: "message", id: itemId("msg"), index: items.length, parts: [] };
    openItem(message, messageItem(message.id, {}, "in_progress"));
    return message;
  };
  /** Adds to the message's part of `type`, which begins with the first delta. */
  const say = (type: MessagePart["type"], delta: string) => {
    const open = openMessage();
    let contentIndex = open.parts.findIndex((part) => part.type === type);
    if (contentIndex === -1) {
      contentIndex = open.parts.push({ type, text: "" }) - 1;
      emit("response.content_part.added", {
        ...at(open),
        content_index: contentIndex,
        part: partOf({ type, text: "" }),
      });
    }
    if (delta === "") return;
    open.parts[contentIndex]!.text += delta;
    const where = { ...at(open), content_index: contentIndex, delta };
    if (type === "output_text") emit("response.output_text.delta", { ...where, logprobs: [] });
    else emit("response.refusal.delta", where);
  };
  const think = (delta: string) => {
    if (reasoning === undefined) {
      reasoning = { kind: "reasoning", id: itemId("rs"), index: items.length, text: "" };
      openItem(reasoning, {
        id: reasoning.id,
        type: "reasoning",
        status: "in_progress",
        summary: [],
        content: [],
      });
      emit("response.content_part.added", {
        ...at(reasoning),
        content_index: 0,
        part: { type: "reasoning_text", text: "" },
      });
    }
    reasoning.text += delta;
    emit("response.reasoning_text.delta", { ...at(reasoning), content_index: 0, delta });
  };
  const call = (delta: JsonObject) => {
    const index = typeof delta.index === "number" ? delta.index : calls.size;
    const fn = isJsonObject(delta.function) ? delta.function : {};
    let open = calls.get(index);
    if (open === undefined) {
      open = {
        kind: "call",
        id: itemId("fc"),
        index: items.length,
        callId: typeof delta.id === "string" ? delta.id : itemId("call"),
        name: "",
        arguments: "",
      };
      if (typeof fn.name === "string") open.name = fn.name;
      calls.set(index, open);
      openItem(open, functionCallItem(open.id, open, "in_progress"));
    } else if (typeof fn.name === "string") {
      open.name += fn.name;
    }
    if (typeof fn.arguments === "string" && fn.arguments !== "") {
      open.arguments += fn.arguments;
      emit("response.function_call_arguments.delta", { ...at(open), delta: fn.arguments });
    }
  };
  const complete = () => {
    start();
    // An answer with nothing in it is still an (empty) message, as a whole answer would be.
    if (items.length === 0) say("output_text", "");
    const status = incompleteReason(finishReason) === undefined ? "completed" : "incomplete";
    const itemStatus = status === "completed" ? "completed" : "incomplete";
    for (const item of items) {
      const where = at(item);
      if (item.kind === "message") {
        item.parts.forEach((part, contentIndex) => {
          const place = { ...where, content_index: contentIndex };
          if (part.type === "output_text") {
            emit("response.output_text.done", { ...place, text: part.text, logprobs: [] });
          } else {
            emit("response.refusal.done", { ...place, refusal: part.text });
          }
          emit("response.content_part.done", { ...place, part: partOf(part) });
        });
      } else if (item.kind === "reasoning") {
        emit("response.reasoning_text.done", { ...where, content_index: 0, text: item.text });
        emit("response.content_part.done", {
          ...where,
          content_index: 0,
          part: { type: "reasoning_text", text: item.text },
        });
      } else {
        emit("response.function_call_arguments.done", {
          ...where,
          name: item.name,
          arguments: item.arguments,
        });
      }
      emit("response.output_item.done", {
        output_index: item.index,
        item: finalItem(item, itemStatus),
      });
    }
    emit(status === "completed" ? "response.completed" : "response.incomplete", {
      response: snapshot(status),
    });
    finished = true;
  };
  const fail = (failure: StreamFailure) => {
    emit("error", { code: failure.code, message: failure.message, param: null });
    if (started) {
      // A Response's error names one of OpenAI's own codes; the event above has the backend's.
      const response = {
        ...snapshot("failed"),
        error: { code: "server_error", message: failure.message },
      };
      emit("response.failed", { response });
    }
    finished = true;
  };
  /** Takes in one event of the backend's stream. */
  const read = (data: string) => {
    if (data === "[DONE]") return complete();
    let chunk: unknown;
    try {
      chunk = JSON.parse(data);
    } catch {
      throw new Error(`The backend sent an event that is not JSON: ${show(data)}`);
    }
    if (!isJsonObject(chunk)) throw new Error(`The backend sent an event that is not a chunk`);
    if (chunk.error != null) return fail(backendFailure(chunk.error));
    // The backend's model name, as a whole answer shows it, from the first event on.
    if (typeof chunk.model === "string") model ??= chunk.model;
    start();
    if (chunk.usage != null) usage = chunk.usage;
    const choice = Array.isArray(chunk.choices) ? chunk.choices[0] : undefined;
    if (!isJsonObject(choice)) return;
    const delta = isJsonObject(choice.delta) ? choice.delta : {};
    const thought = reasoningOf(delta);
    if (thought !== undefined) think(thought);
    if (typeof delta.content === "string" && delta.content !== "") {
      say("output_text", delta.content);
    }
    if (typeof delta.refusal === "string" && delta.refusal !== "") say("refusal", delta.refusal);
    if (Array.isArray(delta.tool_calls)) delta.tool_calls.filter(isJsonObject).forEach(call);
    if (choice.finish_reason != null) finishReason = choice.finish_reason;
  };

  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        while (pending === "" && !finished) {
          const { done, value } = await reader.read();
          if (done) {
            parser.feed(decoder.decode());
          } else {
            parser.feed(decoder.decode(value, { stream: true }));
          }
          for (const data of events.splice(0)) {
            read(data);
            if (finished) break;
          }
          if (done && !finished) {
            // A stream that said how it finished lacks only its `[DONE]`.
            if (finishReason === null) throw new Error("The backend ended the stream early");
            complete();
          }
        }
        if (pending !== "") controller.enqueue(encoder.encode(pending));
        pending = "";
        if (finished) {
          controller.close();
          // Whatever follows the last event is not read: let the source go.
          reader.cancel().catch(() => {});
        }
      } catch (error) {
        finished = true;
        controller.error(error);
      }
    },
    cancel(reason) {
      finished = true;
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });

  return {
    body,
    farewell(failure) {
      // Events the failed read had made go first: the stream's own are always whole.
      fail(failure);
      const bytes = encoder.encode(pending);
      pending = "";
      return bytes;
    },
  };
}

/** Where an item's events point. */
function at(item: OpenItem): JsonObject {
  return { item_id: item.id, output_index: item.index };
}

function finalItem(item: OpenItem, status: string): JsonObject {
  switch (item.kind) {
    case "message":
      return { ...messageItem(item.id, {}, status), content: item.parts.map(partOf) };
    case "reasoning":
      return reasoningItem(item.id, item.text, status);
    case "call":
      return functionCallItem(item.id, item, status);
  }
}

function partOf(part: MessagePart): JsonObject {
  return part.type === "output_text"
    ? outputText(part.text)
    : { type: "refusal", refusal: part.text };
}

/** The backend's error event as the `error` event tells it; a 4xx code is kept as it came. */
function backendFailure(error: unknown): StreamFailure {
  if (!isJsonObject(error)) return { code: "server_error", message: String(error) };
  const message = typeof error.message === "string" ? error.message : show(error);
  const code = error.code ?? error.status;
  return { code: code == null ? "server_error" : String(code), message };
}

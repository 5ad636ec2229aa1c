/**
 * Ollama's streamed answers (NDJSON: one JSON object a line) as OpenAI's server-sent events,
 * translated line by line as they arrive: nothing is held back but a line not yet complete.
 * @module
 */
import type { ErrorBody } from "../../errors.ts";
import {
  finishReason,
  modelOf,
  type OllamaAnswer,
  readChatAnswer,
  readGenerateAnswer,
  toolCallOf,
  usageOf,
} from "./_answer.ts";
import { isRecord, show } from "../../lib/request_fields.ts";
import type { ByteSource, StreamTranslation } from "./types.ts";

/** The OpenAI chunks one line of Ollama's stream becomes, and whether it was the last line. */
interface Translated {
  readonly chunks: readonly Record<string, unknown>[];
  readonly done: boolean;
}

type LineTranslator = (line: unknown) => Translated;

const encoder = new TextEncoder();

/**
 * Translates an `/api/chat` or `/api/generate` NDJSON stream into OpenAI's SSE stream, ending
 * with `data: [DONE]`. An error line from Ollama, a line that cannot be read, or a stream that
 * ends before its last line becomes one SSE error event that ends the stream. Reads the source
 * only as fast as the returned stream is read; cancelling it cancels the source.
 */
export function ndjsonToSse(
  body: ReadableStream<Uint8Array> | ByteSource,
  options: StreamTranslation,
): ReadableStream<Uint8Array> {
  const reader = body instanceof ReadableStream ? body.getReader() : body;
  const decoder = new TextDecoder();
  const translate = options.kind === "chat" ? chatTranslator(options) : generateTranslator(options);
  let partial = "";
  let finished = false;

  /** Enqueues the events of one complete line; returns whether it enqueued any. */
  const line = (text: string, controller: ReadableStreamDefaultController<Uint8Array>) => {
    const trimmed = text.trim();
    if (trimmed === "") return false;
    let translated: Translated;
    try {
      translated = translate(parse(trimmed));
    } catch (error) {
      fail(controller, error instanceof Error ? error.message : String(error));
      return true;
    }
    for (const chunk of translated.chunks) controller.enqueue(event(chunk));
    if (translated.done) {
      controller.enqueue(encoder.encode("data: [DONE]\n\n"));
      finish(controller);
    }
    return translated.chunks.length > 0 || translated.done;
  };
  const fail = (controller: ReadableStreamDefaultController<Uint8Array>, message: string) => {
    const body: ErrorBody = {
      error: { message, type: "upstream_error", param: null, code: "backend_error" },
    };
    controller.enqueue(event(body));
    finish(controller);
  };
  const finish = (controller: ReadableStreamDefaultController<Uint8Array>) => {
    finished = true;
    controller.close();
    // Whatever follows the last line is not read: let the source go.
    reader.cancel().catch(() => {});
  };

  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (finished) return;
          partial += done ? decoder.decode() : decoder.decode(value, { stream: true });
          const lines = partial.split("\n");
          partial = done ? "" : lines.pop()!;
          let emitted = false;
          for (const text of lines) {
            emitted = line(text, controller) || emitted;
            if (finished) return;
          }
          if (done) return fail(controller, "The backend ended the stream early");
          if (emitted) return;
        }
      } catch (error) {
        if (finished) return;
        finished = true;
        controller.error(error);
      }
    },
    cancel(reason) {
      finished = true;
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
}

function event(data: unknown): Uint8Array {
  return encoder.encode(`data: ${JSON.stringify(data)}\n\n`);
}

/** A line as JSON; Ollama's own error line is thrown as its message. */
function parse(text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(`The backend sent a line that is not JSON: ${show(text)}`);
  }
  if (isRecord(value) && value.error != null) {
    throw new Error(typeof value.error === "string" ? value.error : show(value.error));
  }
  return value;
}

/** Builds chunks of one object type, with `usage: null` when usage is reported at the end. */
function chunker(options: StreamTranslation, object: string) {
  return {
    chunk(answer: OllamaAnswer, choice: Record<string, unknown>): Record<string, unknown> {
      const chunk = {
        id: options.id,
        object,
        created: options.created,
        model: modelOf(answer, options),
        choices: [choice],
      };
      return options.includeUsage ? { ...chunk, usage: null } : chunk;
    },
    usage(answer: OllamaAnswer): Record<string, unknown> {
      return {
        id: options.id,
        object,
        created: options.created,
        model: modelOf(answer, options),
        choices: [],
        usage: usageOf(answer),
      };
    },
  };
}

function chatTranslator(options: StreamTranslation): LineTranslator {
  const { chunk, usage } = chunker(options, "chat.completion.chunk");
  let first = true;
  let toolCalls = 0;
  return function translateChat(value) {
    const answer = readChatAnswer(value);
    const delta: Record<string, unknown> = {};
    if (first) delta.role = "assistant";
    if (first || answer.content !== "") delta.content = answer.content;
    if (answer.thinking !== "") delta.reasoning_content = answer.thinking;
    if (answer.toolCalls.length > 0) {
      delta.tool_calls = answer.toolCalls.map((call) => {
        const index = toolCalls++;
        return { index, ...toolCallOf(call, index, options) };
      });
    }
    const chunks: Record<string, unknown>[] = [];
    // A line that adds nothing (Ollama sends some) makes no chunk, unless it is the last.
    if (answer.done || Object.keys(delta).length > 0) {
      first = false;
      const reason = answer.done ? finishReason(answer.doneReason, toolCalls > 0) : null;
      chunks.push(chunk(answer, { index: 0, delta, finish_reason: reason, logprobs: null }));
    }
    if (answer.done && options.includeUsage) chunks.push(usage(answer));
    return { chunks, done: answer.done };
  };
}

function generateTranslator(options: StreamTranslation): LineTranslator {
  const { chunk, usage } = chunker(options, "text_completion");
  return function translateGenerate(value) {
    const answer = readGenerateAnswer(value);
    const chunks: Record<string, unknown>[] = [];
    if (answer.done || answer.response !== "" || answer.thinking !== "") {
      const choice: Record<string, unknown> = { index: 0, text: answer.response };
      if (answer.thinking !== "") choice.reasoning_content = answer.thinking;
      choice.finish_reason = answer.done ? finishReason(answer.doneReason, false) : null;
      choice.logprobs = null;
      chunks.push(chunk(answer, choice));
    }
    if (answer.done && options.includeUsage) chunks.push(usage(answer));
    return { chunks, done: answer.done };
  };
}

/**
 * How one request is sent to an instance and how its answer comes back: byte for byte for
 * every backend on an OpenAI path, translated for an Ollama instance on a native path.
 * @module
 */
import {
  embedEncodingOf,
  fromOllamaChat,
  fromOllamaEmbed,
  fromOllamaError,
  fromOllamaGenerate,
  type NativeEndpoint,
  ndjsonToSse,
  toOllamaChat,
  toOllamaEmbed,
  toOllamaGenerate,
} from "../adapters/ollama_native/mod.ts";
import { GatewayError } from "../errors.ts";
import { chunkReader } from "../lib/chunk_reader.ts";
import type { ClientBody } from "./request/body.ts";
import { UpstreamAnswer } from "../transport/upstream_answer.ts";

/** One request as an instance receives it, and the client's answer made from the instance's. */
export interface Exchange {
  readonly body: Uint8Array<ArrayBuffer>;
  readonly contentType: string;
  /** Whether the client's answer streams. */
  readonly streamed: boolean;
  /**
   * The client's response to the backend's; it may read the backend's body to translate it,
   * and throws a {@linkcode GatewayError} when that body is not what the backend should send.
   */
  answer(answer: UpstreamAnswer): UpstreamAnswer | Promise<UpstreamAnswer>;
}

/** The client's bytes go up and the backend's come back, untouched. */
export function passThrough(body: ClientBody): Exchange {
  return {
    body: body.bytes,
    contentType: body.contentType,
    streamed: body.stream,
    answer: (answer) => answer,
  };
}

const encoder = new TextEncoder();
const SSE_HEADERS: readonly (readonly [string, string])[] = [
  ["content-type", "text/event-stream"],
  ["cache-control", "no-cache"],
];

/**
 * An OpenAI request translated for Ollama's native API, and the answer translated back.
 * Throws a {@linkcode GatewayError} (400) for a field the native API has no place for.
 */
export function ollamaExchange(
  endpoint: NativeEndpoint,
  body: ClientBody,
  now: number,
): Exchange {
  const request = body.json;
  if (request === undefined) throw new TypeError("Ollama's native APIs take JSON bodies only");
  const native = endpoint === "chat"
    ? toOllamaChat(request)
    : endpoint === "generate"
    ? toOllamaGenerate(request)
    : toOllamaEmbed(request);
  const encoding = endpoint === "embed" ? embedEncodingOf(request) : "float";
  const kind = endpoint === "embed" ? undefined : endpoint;
  const streamed = body.stream && kind !== undefined;
  const context = {
    id: `${endpoint === "chat" ? "chatcmpl" : "cmpl"}-${crypto.randomUUID().replaceAll("-", "")}`,
    created: Math.floor(now / 1000),
    model: body.model,
  };
  const includeUsage = (request.stream_options as { include_usage?: unknown } | undefined)
    ?.include_usage === true;

  return {
    body: encoder.encode(JSON.stringify(native)),
    contentType: "application/json",
    streamed,
    async answer(answer) {
      if (answer.status >= 300 && answer.status < 400) return answer;
      if (!answer.ok) {
        const { status, body } = fromOllamaError(answer.status, await answer.text());
        return UpstreamAnswer.json(body, status);
      }
      if (streamed && kind !== undefined) {
        const stream = answer.stream();
        if (stream === null) throw badAnswer("an empty stream");
        return new UpstreamAnswer(
          200,
          "",
          SSE_HEADERS,
          ndjsonToSse(chunkReader(stream), {
            ...context,
            kind,
            includeUsage,
          }),
        );
      }
      let native: unknown;
      try {
        native = await answer.json();
      } catch {
        throw badAnswer("a body that is not JSON");
      }
      return UpstreamAnswer.json(
        endpoint === "chat"
          ? fromOllamaChat(native, context)
          : endpoint === "generate"
          ? fromOllamaGenerate(native, context)
          : fromOllamaEmbed(native, { model: body.model, encodingFormat: encoding }),
      );
    },
  };
}

function badAnswer(what: string): GatewayError {
  return new GatewayError(502, "bad_upstream_response", `The backend answered with ${what}`);
}

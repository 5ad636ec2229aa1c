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
import { chunkReader } from "./chunk_reader.ts";
import type { ClientBody } from "./body.ts";

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
  answer(response: Response): Response | Promise<Response>;
}

/** The client's bytes go up and the backend's come back, untouched. */
export function passThrough(body: ClientBody): Exchange {
  return {
    body: body.bytes,
    contentType: body.contentType,
    streamed: body.stream,
    answer: (response) => response,
  };
}

const encoder = new TextEncoder();

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
    async answer(response) {
      if (response.status >= 300 && response.status < 400) return response;
      if (!response.ok) {
        const { status, body } = fromOllamaError(response.status, await response.text());
        return Response.json(body, { status });
      }
      if (streamed && kind !== undefined) {
        if (response.body === null) throw badAnswer("an empty stream");
        return new Response(
          ndjsonToSse(chunkReader(response.body), { ...context, kind, includeUsage }),
          { headers: { "content-type": "text/event-stream", "cache-control": "no-cache" } },
        );
      }
      let answer: unknown;
      try {
        answer = await response.json();
      } catch {
        throw badAnswer("a body that is not JSON");
      }
      return Response.json(
        endpoint === "chat"
          ? fromOllamaChat(answer, context)
          : endpoint === "generate"
          ? fromOllamaGenerate(answer, context)
          : fromOllamaEmbed(answer, { model: body.model, encodingFormat: encoding }),
      );
    },
  };
}

function badAnswer(what: string): GatewayError {
  return new GatewayError(502, "bad_backend_answer", `The backend answered with ${what}`);
}

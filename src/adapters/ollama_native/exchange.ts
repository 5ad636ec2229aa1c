/**
 * An OpenAI request translated for Ollama's native API, and its answer translated back: the
 * Ollama adapter's translation for instances on `/api/chat`, `/api/generate` or `/api/embed`.
 * @module
 */
import { GatewayError } from "../../errors.ts";
import { chunkReader } from "../../lib/chunk_reader.ts";
import type { Exchange, Translation } from "../../proxy/exchange.ts";
import type { ClientBody } from "../../proxy/request/body.ts";
import { UpstreamAnswer } from "../../transport/upstream_answer.ts";
import { embedEncodingOf, fromOllamaEmbed, toOllamaEmbed } from "./embed.ts";
import { fromOllamaChat, toOllamaChat } from "./chat.ts";
import { type NativeEndpoint, nativeEndpointOf } from "./endpoint.ts";
import { fromOllamaError } from "./errors.ts";
import { fromOllamaGenerate, toOllamaGenerate } from "./generate.ts";
import { ndjsonToSse } from "./stream.ts";
import { asksUsage } from "../../proxy/request/usage_asked.ts";

const TRANSLATIONS: Readonly<Record<NativeEndpoint, Translation>> = {
  chat: { name: "ollama /api/chat", exchange: (body, now) => ollamaExchange("chat", body, now) },
  generate: {
    name: "ollama /api/generate",
    exchange: (body, now) => ollamaExchange("generate", body, now),
  },
  embed: {
    name: "ollama /api/embed",
    exchange: (body, now) => ollamaExchange("embed", body, now),
  },
};

/** The translation an Ollama instance on `path` needs: none on its OpenAI-compatible `/v1`. */
export function ollamaTranslation(path: string): Translation | undefined {
  const endpoint = nativeEndpointOf(path);
  return endpoint === undefined ? undefined : TRANSLATIONS[endpoint];
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
function ollamaExchange(
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
  const includeUsage = asksUsage(body);

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

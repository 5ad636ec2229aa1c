/**
 * An OpenAI chat request sent to an Anthropic Messages backend, and its answer (whole or
 * streamed, or an error) translated back: the `anthropic` adapter's translation.
 * @module
 */
import { GatewayError } from "../../errors.ts";
import { chunkReader } from "../../lib/chunk_reader.ts";
import type { Exchange, Translation } from "../../proxy/exchange.ts";
import type { ClientBody } from "../../proxy/request/body.ts";
import { UpstreamAnswer } from "../../transport/upstream_answer.ts";
import { fromMessagesAnswer } from "./chat_to_messages_answer.ts";
import { fromMessagesError } from "./chat_to_messages_errors.ts";
import { toMessagesRequest } from "./chat_to_messages_request.ts";
import { messagesStreamToChatStream } from "./chat_to_messages_stream.ts";
import { asksUsage } from "../../proxy/request/usage_asked.ts";

const encoder = new TextEncoder();
const SSE_HEADERS: readonly (readonly [string, string])[] = [
  ["content-type", "text/event-stream"],
  ["cache-control", "no-cache"],
];

/** OpenAI chat completions to Anthropic's Messages API and back. */
export const chatToMessages: Translation = {
  name: "anthropic /v1/messages",
  exchange: messagesExchange,
};

/**
 * The Messages request made from an OpenAI chat request, and the client's answer made from
 * the backend's. Throws a {@linkcode GatewayError} (400) for a field Messages has no place for.
 */
function messagesExchange(body: ClientBody, now: number): Exchange {
  const request = body.json;
  if (request === undefined) throw new TypeError("Anthropic's Messages API takes JSON bodies only");
  const messages = toMessagesRequest(request);
  const streamed = messages.stream === true;
  const context = {
    id: `chatcmpl-${crypto.randomUUID().replaceAll("-", "")}`,
    created: Math.floor(now / 1000),
  };
  const includeUsage = asksUsage(body);

  return {
    body: encoder.encode(JSON.stringify(messages)),
    contentType: "application/json",
    streamed,
    async answer(answer) {
      if (answer.status >= 300 && answer.status < 400) return answer;
      if (!answer.ok) {
        const { status, body } = fromMessagesError(answer.status, await answer.text());
        // How long to wait before trying again, which the gateway's retries heed too.
        const retryAfter = answer.header("retry-after");
        return new UpstreamAnswer(
          status,
          "",
          [
            ["content-type", "application/json"],
            ...(retryAfter ? [["retry-after", retryAfter] as const] : []),
          ],
          encoder.encode(JSON.stringify(body)),
        );
      }
      if (streamed) {
        const stream = answer.stream();
        if (stream === null) throw badAnswer("an empty stream");
        return new UpstreamAnswer(
          200,
          "",
          SSE_HEADERS,
          messagesStreamToChatStream(chunkReader(stream), {
            ...context,
            model: body.model,
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
      return UpstreamAnswer.json(fromMessagesAnswer(native, context));
    },
  };
}

function badAnswer(what: string): GatewayError {
  return new GatewayError(502, "bad_upstream_response", `The backend answered with ${what}`);
}

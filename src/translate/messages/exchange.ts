/**
 * The Messages route's translation for an instance that serves only OpenAI chat completions:
 * the request becomes a chat request, the answer (whole or streamed) and errors come back in
 * Anthropic's shape.
 * @module
 */
import { GatewayError } from "../../errors.ts";
import type { Exchange, Translation } from "../../proxy/exchange.ts";
import type { ClientBody } from "../../proxy/request/body.ts";
import { UpstreamAnswer } from "../../transport/upstream_answer.ts";
import { type AnswerContext, badAnswer, fromChatCompletion } from "./answer.ts";
import { fromChatError } from "./errors.ts";
import { readMessagesRequest, toChatRequest } from "./request.ts";
import { chatSseToMessages } from "./stream.ts";

/** Messages requests to a chat instance, and its answers back. */
export const MESSAGES_TO_CHAT: Translation = {
  name: "Anthropic Messages to chat completions",
  exchange: messagesExchange,
};

/**
 * Token counts for a chat instance: chat completions backends have no endpoint that counts a
 * conversation's tokens, and an estimate would be a guess presented as a count.
 */
export const NO_TOKEN_COUNT: Translation = {
  name: "no token counting on chat completions",
  exchange(body) {
    throw new GatewayError(
      404,
      "token_count_unavailable",
      `Token counting is not available for model "${body.model}": its backends serve chat ` +
        "completions only, which count no tokens without generating",
      { param: "model" },
    );
  },
};

const encoder = new TextEncoder();
const SSE_HEADERS: readonly (readonly [string, string])[] = [
  ["content-type", "text/event-stream"],
  ["cache-control", "no-cache"],
];

/** Headers of a backend's error answer that still mean something once it is translated. */
const KEPT_ERROR_HEADERS = new Set(["retry-after", "x-request-id"]);

function messagesExchange(body: ClientBody): Exchange {
  const request = readMessagesRequest(body.json);
  const context: AnswerContext = {
    id: `msg_${crypto.randomUUID().replaceAll("-", "")}`,
    model: body.model,
    stopSequences: request.stop_sequences ?? [],
  };
  const streamed = request.stream === true;
  return {
    body: encoder.encode(JSON.stringify(toChatRequest(request))),
    contentType: "application/json",
    streamed,
    async answer(answer) {
      if (answer.status >= 300 && answer.status < 400) return answer;
      if (!answer.ok) {
        const error = fromChatError(answer.status, await answer.text());
        return new UpstreamAnswer(
          answer.status,
          answer.statusText,
          [
            ["content-type", "application/json"],
            ...answer.headers.filter(([name]) => KEPT_ERROR_HEADERS.has(name)),
          ],
          encoder.encode(JSON.stringify(error)),
        );
      }
      if (streamed) {
        const stream = answer.stream();
        if (stream === null || !answer.header("content-type")?.startsWith("text/event-stream")) {
          await answer.cancel();
          throw badAnswer("no event stream to a streamed request");
        }
        return new UpstreamAnswer(200, "", SSE_HEADERS, chatSseToMessages(stream, context));
      }
      let completion: unknown;
      try {
        completion = await answer.json();
      } catch {
        throw badAnswer("a body that is not JSON");
      }
      return UpstreamAnswer.json(fromChatCompletion(completion, context));
    },
  };
}

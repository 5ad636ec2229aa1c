/**
 * The Responses API served by a chat-only backend: the request translated to chat on the way
 * there, the chat answer (whole or streamed) translated back into a Response.
 * @module
 */
import { GatewayError } from "../../errors.ts";
import type { Exchange, Translation } from "../../proxy/exchange.ts";
import type { ClientBody } from "../../proxy/request/body.ts";
import { UpstreamAnswer } from "../../transport/upstream_answer.ts";
import { responseContext } from "./_response.ts";
import { fromChatCompletion } from "./answer.ts";
import { toChatRequest } from "./request.ts";
import { chatStreamToResponses, type ResponseEventStream } from "./stream.ts";

/** The translation of a chat instance that serves the `responses` service. */
export const responsesOverChat: Translation = {
  name: "responses over chat completions",
  exchange: responsesExchange,
};

const encoder = new TextEncoder();
const SSE_HEADERS: readonly (readonly [string, string])[] = [
  ["content-type", "text/event-stream"],
  ["cache-control", "no-cache"],
];

function responsesExchange(body: ClientBody, now: number): Exchange {
  if (body.json === undefined) throw new TypeError("The Responses API takes JSON bodies only");
  const { chat, echo } = toChatRequest(body.json);
  const context = responseContext({ model: body.model, echo, now });
  const streamed = body.stream;
  // The stream of the latest attempt: attempts run one after another, and the last one's body
  // is the one relayed.
  let stream: ResponseEventStream | undefined;
  return {
    body: encoder.encode(JSON.stringify(chat)),
    contentType: "application/json",
    streamed,
    async answer(answer) {
      // The backend's own errors are in OpenAI's shape already: passed on as they came.
      if (!answer.ok) return answer;
      if (streamed) {
        const source = answer.stream();
        if (source === null || !answer.header("content-type")?.startsWith("text/event-stream")) {
          await answer.cancel();
          throw badAnswer("something other than an event stream");
        }
        stream = chatStreamToResponses(source, context);
        return new UpstreamAnswer(200, "", SSE_HEADERS, stream.body);
      }
      let completion: unknown;
      try {
        completion = await answer.json();
      } catch {
        throw badAnswer("a body that is not JSON");
      }
      return UpstreamAnswer.json(fromChatCompletion(completion, context));
    },
    farewell: (failure) => stream?.farewell(failure),
  };
}

function badAnswer(what: string): GatewayError {
  return new GatewayError(502, "bad_upstream_response", `The backend answered with ${what}`);
}

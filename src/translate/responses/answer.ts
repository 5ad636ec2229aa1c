/**
 * A chat completion as a Response object, for a backend that serves only chat.
 * @module
 */
import { GatewayError } from "../../errors.ts";
import { isJsonObject, type JsonObject } from "../../lib/json.ts";
import {
  functionCallItem,
  incompleteReason,
  itemId,
  messageItem,
  reasoningItem,
  reasoningOf,
  type ResponseContext,
  responseObject,
  usageOf,
} from "./_response.ts";

/**
 * The Response object made from a chat completion; throws a 502 `GatewayError` when the
 * backend's answer is not a chat completion.
 */
export function fromChatCompletion(completion: unknown, context: ResponseContext): JsonObject {
  const choice = isJsonObject(completion) && Array.isArray(completion.choices)
    ? completion.choices[0]
    : undefined;
  const message = isJsonObject(choice) ? choice.message : undefined;
  if (!isJsonObject(completion) || !isJsonObject(choice) || !isJsonObject(message)) {
    throw new GatewayError(
      502,
      "bad_upstream_response",
      "The backend answered with something other than a chat completion",
    );
  }
  const incomplete = incompleteReason(choice.finish_reason);
  const status = incomplete === undefined ? "completed" : "incomplete";
  const output: JsonObject[] = [];
  const reasoning = reasoningOf(message);
  if (reasoning !== undefined) output.push(reasoningItem(itemId("rs"), reasoning, status));
  const content = typeof message.content === "string" ? message.content : undefined;
  const refusal = typeof message.refusal === "string" ? message.refusal : undefined;
  const calls = Array.isArray(message.tool_calls) ? message.tool_calls.filter(isJsonObject) : [];
  if ((content !== undefined && content !== "") || refusal !== undefined || calls.length === 0) {
    // A refusal alone is the message; otherwise the text, empty when the backend sent none.
    const parts = refusal === undefined
      ? { text: content ?? "" }
      : content
      ? { text: content, refusal }
      : { refusal };
    output.push(messageItem(itemId("msg"), parts, status));
  }
  for (const call of calls) {
    const fn = isJsonObject(call.function) ? call.function : {};
    output.push(functionCallItem(itemId("fc"), {
      callId: typeof call.id === "string" ? call.id : itemId("call"),
      name: typeof fn.name === "string" ? fn.name : "",
      arguments: typeof fn.arguments === "string"
        ? fn.arguments
        : JSON.stringify(fn.arguments ?? {}),
    }, status));
  }
  return responseObject(context, {
    status,
    model: typeof completion.model === "string" ? completion.model : undefined,
    output,
    usage: usageOf(completion.usage),
    incompleteReason: incomplete,
  });
}

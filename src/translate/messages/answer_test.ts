import assert from "node:assert/strict";
import { GatewayError } from "../../errors.ts";
import { fromChatCompletion } from "./answer.ts";

const CONTEXT = { id: "msg_1", model: "m", stopSequences: ["END"] };

function completion(choice: Record<string, unknown>, usage?: Record<string, unknown>) {
  return {
    id: "chatcmpl-1",
    object: "chat.completion",
    choices: [{ index: 0, ...choice }],
    ...(usage ? { usage } : {}),
  };
}

Deno.test("text and usage come back as a Message", () => {
  const message = fromChatCompletion(
    completion({ message: { role: "assistant", content: "Hello" }, finish_reason: "stop" }, {
      prompt_tokens: 12,
      completion_tokens: 3,
      total_tokens: 15,
    }),
    CONTEXT,
  );
  assert.deepEqual(message, {
    id: "msg_1",
    type: "message",
    role: "assistant",
    model: "m",
    content: [{ type: "text", text: "Hello" }],
    stop_reason: "end_turn",
    stop_sequence: null,
    usage: { input_tokens: 12, output_tokens: 3 },
  });
});

Deno.test("tool calls become tool_use blocks with parsed input, after reasoning and text", () => {
  const message = fromChatCompletion(
    completion({
      message: {
        role: "assistant",
        content: "Let me check.",
        reasoning_content: "The user wants weather.",
        tool_calls: [{
          id: "call_1",
          type: "function",
          function: { name: "weather", arguments: '{"city":"Paris"}' },
        }],
      },
      finish_reason: "tool_calls",
    }),
    CONTEXT,
  );
  assert.deepEqual(message.content, [
    { type: "thinking", thinking: "The user wants weather.", signature: "" },
    { type: "text", text: "Let me check." },
    { type: "tool_use", id: "call_1", name: "weather", input: { city: "Paris" } },
  ]);
  assert.equal(message.stop_reason, "tool_use");
});

Deno.test("finish reasons map to stop reasons, a named stop sequence included", () => {
  const stop = (choice: Record<string, unknown>) => {
    const message = fromChatCompletion(
      completion({ message: { content: "x" }, ...choice }),
      CONTEXT,
    );
    return [message.stop_reason, message.stop_sequence];
  };
  assert.deepEqual(stop({ finish_reason: "length" }), ["max_tokens", null]);
  assert.deepEqual(stop({ finish_reason: "content_filter" }), ["refusal", null]);
  assert.deepEqual(stop({ finish_reason: "stop", stop_reason: "END" }), ["stop_sequence", "END"]);
  assert.deepEqual(stop({ finish_reason: "stop", stop_reason: 128001 }), ["end_turn", null]);
});

Deno.test("an answer that is no chat completion, or arguments that are no JSON, are a 502", () => {
  for (
    const body of [
      {},
      { choices: [] },
      completion({
        message: { tool_calls: [{ id: "c", function: { name: "f", arguments: "{oops" } }] },
        finish_reason: "tool_calls",
      }),
    ]
  ) {
    assert.throws(
      () => fromChatCompletion(body, CONTEXT),
      (error) => error instanceof GatewayError && error.status === 502,
    );
  }
});

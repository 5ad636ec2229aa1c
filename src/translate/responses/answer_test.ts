import assert from "node:assert/strict";
import { GatewayError } from "../../errors.ts";
import { fromChatCompletion } from "./answer.ts";
import type { ResponseContext } from "./_response.ts";

const CONTEXT: ResponseContext = {
  id: "resp_test",
  createdAt: 1_700_000_000,
  model: "asked",
  echo: { instructions: null, metadata: { a: "b" } },
};

Deno.test("a chat completion becomes a Response with reasoning, message and calls in order", () => {
  const response = fromChatCompletion({
    model: "served",
    choices: [{
      index: 0,
      message: {
        role: "assistant",
        content: "Let me check",
        reasoning_content: "The user wants weather",
        tool_calls: [{ id: "call_1", type: "function", function: { name: "w", arguments: "{}" } }],
      },
      finish_reason: "tool_calls",
    }],
    usage: {
      prompt_tokens: 3,
      completion_tokens: 4,
      total_tokens: 7,
      prompt_tokens_details: { cached_tokens: 2 },
    },
  }, CONTEXT);
  assert.equal(response.id, "resp_test");
  assert.equal(response.object, "response");
  assert.equal(response.created_at, 1_700_000_000);
  assert.equal(response.status, "completed");
  assert.equal(response.model, "served");
  assert.deepEqual(response.metadata, { a: "b" });
  const output = response.output as Record<string, unknown>[];
  assert.deepEqual(output.map((item) => item.type), ["reasoning", "message", "function_call"]);
  assert.deepEqual(output[0]!.content, [{
    type: "reasoning_text",
    text: "The user wants weather",
  }]);
  assert.deepEqual(output[1]!.content, [
    { type: "output_text", text: "Let me check", annotations: [], logprobs: [] },
  ]);
  assert.equal(output[2]!.call_id, "call_1");
  assert.match(String(output[2]!.id), /^fc_/);
  assert.deepEqual(response.usage, {
    input_tokens: 3,
    input_tokens_details: { cached_tokens: 2 },
    output_tokens: 4,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: 7,
  });
});

Deno.test("a content filter stop is an incomplete Response; a non-chat answer is a 502", () => {
  const response = fromChatCompletion({
    choices: [{ message: { content: "" }, finish_reason: "content_filter" }],
  }, CONTEXT);
  assert.equal(response.status, "incomplete");
  assert.deepEqual(response.incomplete_details, { reason: "content_filter" });
  assert.equal(response.model, "asked");
  assert.equal(response.usage, null);
  assert.throws(
    () => fromChatCompletion({ object: "list" }, CONTEXT),
    (error: unknown) => error instanceof GatewayError && error.status === 502,
  );
});

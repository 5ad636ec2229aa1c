import assert from "node:assert/strict";
import { GatewayError } from "../../errors.ts";
import { finishReason, fromMessagesAnswer } from "./chat_to_messages_answer.ts";

const CONTEXT = { id: "chatcmpl-1", created: 1700000000 };

function message(content: unknown[], stopReason: string, usage: Record<string, number> = {}) {
  return {
    id: "msg_1",
    type: "message",
    role: "assistant",
    model: "claude-x",
    content,
    stop_reason: stopReason,
    stop_sequence: null,
    usage: { input_tokens: 10, output_tokens: 5, ...usage },
  };
}

Deno.test("a text answer becomes a chat.completion with usage", () => {
  assert.deepEqual(
    fromMessagesAnswer(
      message([{ type: "text", text: "Hello" }, { type: "text", text: " there" }], "end_turn"),
      CONTEXT,
    ),
    {
      id: "chatcmpl-1",
      object: "chat.completion",
      created: 1700000000,
      model: "claude-x",
      choices: [{
        index: 0,
        message: { role: "assistant", content: "Hello there" },
        finish_reason: "stop",
        logprobs: null,
      }],
      usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
    },
  );
});

Deno.test("tool_use blocks become tool calls with JSON string arguments", () => {
  const out = fromMessagesAnswer(
    message([
      { type: "tool_use", id: "toolu_1", name: "weather", input: { city: "Paris" } },
    ], "tool_use"),
    CONTEXT,
  );
  const choice = (out.choices as Record<string, unknown>[])[0]!;
  assert.equal(choice.finish_reason, "tool_calls");
  assert.deepEqual(choice.message, {
    role: "assistant",
    content: null,
    tool_calls: [{
      id: "toolu_1",
      type: "function",
      function: { name: "weather", arguments: '{"city":"Paris"}' },
    }],
  });
});

Deno.test("thinking becomes reasoning_content; cached prompt tokens count as prompt tokens", () => {
  const out = fromMessagesAnswer(
    message(
      [{ type: "thinking", thinking: "hmm", signature: "s" }, { type: "text", text: "42" }],
      "max_tokens",
      { cache_read_input_tokens: 90, cache_creation_input_tokens: 0 },
    ),
    CONTEXT,
  );
  const choice = (out.choices as Record<string, unknown>[])[0]!;
  assert.deepEqual(choice.message, { role: "assistant", content: "42", reasoning_content: "hmm" });
  assert.equal(choice.finish_reason, "length");
  assert.deepEqual(out.usage, {
    prompt_tokens: 100,
    completion_tokens: 5,
    total_tokens: 105,
    prompt_tokens_details: { cached_tokens: 90 },
  });
});

Deno.test("stop reasons map to OpenAI's finish reasons", () => {
  assert.equal(finishReason("end_turn"), "stop");
  assert.equal(finishReason("stop_sequence"), "stop");
  assert.equal(finishReason("max_tokens"), "length");
  assert.equal(finishReason("tool_use"), "tool_calls");
  assert.equal(finishReason("refusal"), "content_filter");
  assert.equal(finishReason(null), "stop");
});

Deno.test("an answer of another shape is a 502 naming what is wrong", () => {
  for (
    const answer of [
      null,
      { type: "message" },
      { choices: [] },
      message([{ type: "text" }], "end_turn"),
    ]
  ) {
    assert.throws(() => fromMessagesAnswer(answer, CONTEXT), (error) => {
      assert.ok(error instanceof GatewayError);
      assert.equal(error.status, 502);
      assert.equal(error.code, "bad_upstream_response");
      return true;
    });
  }
});

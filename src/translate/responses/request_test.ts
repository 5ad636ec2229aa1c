import assert from "node:assert/strict";
import { GatewayError } from "../../errors.ts";
import { toChatRequest } from "./request.ts";

function refusal(body: Record<string, unknown>): GatewayError {
  try {
    toChatRequest({ model: "m", input: "Hi", ...body });
  } catch (error) {
    assert.ok(error instanceof GatewayError);
    assert.equal(error.status, 400);
    return error;
  }
  assert.fail(`expected ${JSON.stringify(body)} to be refused`);
}

Deno.test("input messages keep their parts: text, images with detail, inline files", () => {
  const { chat } = toChatRequest({
    model: "m",
    input: [
      { role: "developer", content: "Rules" },
      {
        type: "message",
        role: "user",
        content: [
          { type: "input_text", text: "What is this?" },
          { type: "input_image", image_url: "data:image/png;base64,AAAA", detail: "low" },
          { type: "input_file", file_data: "data:application/pdf;base64,BBBB", filename: "a.pdf" },
        ],
      },
      {
        type: "message",
        role: "assistant",
        id: "msg_1",
        status: "completed",
        content: [{ type: "output_text", text: "A cat", annotations: [] }],
      },
      { role: "user", content: [{ type: "input_text", text: "Sure?" }] },
    ],
  });
  assert.deepEqual(chat.messages, [
    { role: "system", content: "Rules" },
    {
      role: "user",
      content: [
        { type: "text", text: "What is this?" },
        { type: "image_url", image_url: { url: "data:image/png;base64,AAAA", detail: "low" } },
        {
          type: "file",
          file: { file_data: "data:application/pdf;base64,BBBB", filename: "a.pdf" },
        },
      ],
    },
    { role: "assistant", content: "A cat" },
    { role: "user", content: "Sure?" },
  ]);
});

Deno.test("function calls join the assistant message before them; outputs become tool messages", () => {
  const { chat } = toChatRequest({
    model: "m",
    input: [
      { role: "user", content: "Weather in Oslo and Bergen?" },
      { role: "assistant", content: "Checking" },
      { type: "function_call", call_id: "a", name: "w", arguments: '{"city":"Oslo"}' },
      { type: "function_call", call_id: "b", name: "w", arguments: '{"city":"Bergen"}' },
      { type: "function_call_output", call_id: "a", output: "sun" },
      {
        type: "function_call_output",
        call_id: "b",
        output: [{ type: "input_text", text: "rain" }],
      },
    ],
  });
  assert.deepEqual(chat.messages, [
    { role: "user", content: "Weather in Oslo and Bergen?" },
    {
      role: "assistant",
      content: "Checking",
      tool_calls: [
        { id: "a", type: "function", function: { name: "w", arguments: '{"city":"Oslo"}' } },
        { id: "b", type: "function", function: { name: "w", arguments: '{"city":"Bergen"}' } },
      ],
    },
    { role: "tool", tool_call_id: "a", content: "sun" },
    { role: "tool", tool_call_id: "b", content: [{ type: "text", text: "rain" }] },
  ]);
});

Deno.test("settings map to their chat names; a stream asks for its usage", () => {
  const { chat, echo } = toChatRequest({
    model: "m",
    input: "Hi",
    stream: true,
    text: { format: { type: "json_object" }, verbosity: "low" },
    reasoning: { effort: "high", summary: "auto" },
    tool_choice: "required",
    store: false,
    include: ["reasoning.encrypted_content"],
    prompt_cache_key: "k",
    metadata: { a: "b" },
  });
  assert.deepEqual(chat, {
    model: "m",
    messages: [{ role: "user", content: "Hi" }],
    stream: true,
    stream_options: { include_usage: true },
    response_format: { type: "json_object" },
    verbosity: "low",
    reasoning_effort: "high",
    tool_choice: "required",
  });
  assert.deepEqual(echo.metadata, { a: "b" });
  assert.deepEqual(echo.reasoning, { effort: "high", summary: "auto" });
});

Deno.test("what a stateless chat backend cannot do is refused, naming the field", () => {
  assert.equal(refusal({ previous_response_id: "resp_1" }).param, "previous_response_id");
  assert.equal(refusal({ store: true }).param, "store");
  assert.equal(refusal({ conversation: "conv_1" }).param, "conversation");
  assert.equal(refusal({ background: true }).param, "background");
  assert.equal(refusal({ truncation: "auto" }).param, "truncation");
  assert.equal(refusal({ seed: 1 }).param, "seed");
  assert.equal(refusal({ include: ["message.output_text.logprobs"] }).param, "include[0]");
  assert.equal(refusal({ tools: [{ type: "file_search" }] }).param, "tools[0].type");
  assert.match(refusal({ tools: [{ type: "file_search" }] }).message, /"file_search"/);
  assert.equal(refusal({ tool_choice: { type: "web_search" } }).param, "tool_choice.type");
  assert.equal(
    refusal({ input: [{ role: "user", content: [{ type: "input_image", file_id: "f" }] }] }).param,
    "input[0].content[0].file_id",
  );
  assert.equal(
    refusal({ input: [{ role: "user", content: [{ type: "input_file", file_url: "http://x" }] }] })
      .param,
    "input[0].content[0].file_url",
  );
  assert.equal(
    refusal({ input: [{ role: "system", content: [{ type: "input_image", image_url: "u" }] }] })
      .param,
    "input[0].content",
  );
  assert.equal(
    refusal({
      input: [{ type: "function_call_output", call_id: "a", output: [{ type: "input_image" }] }],
    }).param,
    "input[0].output[0].type",
  );
  assert.equal(refusal({ input: [{ type: "web_search_call", id: "ws" }] }).param, "input[0].type");
  assert.equal(refusal({ input: 3 }).param, "input");
  assert.equal(refusal({ temperature: "hot" }).param, "temperature");
});

Deno.test("a request without input is refused", () => {
  assert.throws(() => toChatRequest({ model: "m" }), (error: unknown) => {
    assert.ok(error instanceof GatewayError);
    return error.status === 400 && error.param === "input";
  });
});

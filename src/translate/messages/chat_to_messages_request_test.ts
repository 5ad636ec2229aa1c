import assert from "node:assert/strict";
import { GatewayError } from "../../errors.ts";
import { DEFAULT_MAX_TOKENS, toMessagesRequest } from "./chat_to_messages_request.ts";

function refusal(body: Record<string, unknown>): GatewayError {
  try {
    toMessagesRequest(body);
  } catch (error) {
    assert.ok(error instanceof GatewayError, `expected a GatewayError, got ${error}`);
    return error;
  }
  assert.fail("expected a refusal");
}

function assertRefused(
  body: Record<string, unknown>,
  param: string,
  code = "unsupported_parameter",
) {
  const error = refusal(body);
  assert.equal(error.status, 400, error.message);
  assert.equal(error.code, code, error.message);
  assert.equal(error.param, param, error.message);
  return error;
}

const HI = [{ role: "user", content: "hi" }];

Deno.test("a plain request gets the default max_tokens and one user turn", () => {
  assert.deepEqual(toMessagesRequest({ model: "claude", messages: HI }), {
    model: "claude",
    messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }],
    max_tokens: DEFAULT_MAX_TOKENS,
  });
});

Deno.test("system and developer messages become system text blocks, in order", () => {
  const out = toMessagesRequest({
    model: "m",
    messages: [
      { role: "system", content: "be brief" },
      { role: "developer", content: [{ type: "text", text: "use metric" }] },
      ...HI,
    ],
  });
  assert.deepEqual(out.system, [
    { type: "text", text: "be brief" },
    { type: "text", text: "use metric" },
  ]);
  assert.equal((out.messages as unknown[]).length, 1);
});

Deno.test("sampling fields, stop and user map to their Messages names", () => {
  const out = toMessagesRequest({
    model: "m",
    messages: HI,
    max_completion_tokens: 50,
    temperature: 0.2,
    top_p: 0.9,
    top_k: 40,
    stop: "END",
    user: "u-1",
    stream: true,
    stream_options: { include_usage: true },
    n: 1,
    logprobs: false,
    seed: null,
  });
  assert.equal(out.max_tokens, 50);
  assert.equal(out.temperature, 0.2);
  assert.equal(out.top_p, 0.9);
  assert.equal(out.top_k, 40);
  assert.deepEqual(out.stop_sequences, ["END"]);
  assert.deepEqual(out.metadata, { user_id: "u-1" });
  assert.equal(out.stream, true);
  assert.equal("stream_options" in out, false);
  assert.deepEqual(
    toMessagesRequest({ model: "m", messages: HI, stop: ["a", "b"] }).stop_sequences,
    [
      "a",
      "b",
    ],
  );
});

Deno.test("max_tokens and max_completion_tokens must agree", () => {
  assert.equal(
    toMessagesRequest({ model: "m", messages: HI, max_tokens: 9, max_completion_tokens: 9 })
      .max_tokens,
    9,
  );
  assertRefused(
    { model: "m", messages: HI, max_tokens: 9, max_completion_tokens: 10 },
    "max_completion_tokens",
    "invalid_request",
  );
  assertRefused({ model: "m", messages: HI, max_tokens: 0 }, "max_tokens", "invalid_request");
});

Deno.test("images: data: URLs inline as base64, http(s) URLs by reference", () => {
  const out = toMessagesRequest({
    model: "m",
    messages: [{
      role: "user",
      content: [
        { type: "text", text: "what is this?" },
        { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0K" } },
        { type: "image_url", image_url: { url: "https://example.com/cat.jpg", detail: "auto" } },
      ],
    }],
  });
  assert.deepEqual(out.messages, [{
    role: "user",
    content: [
      { type: "text", text: "what is this?" },
      { type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0K" } },
      { type: "image", source: { type: "url", url: "https://example.com/cat.jpg" } },
    ],
  }]);
  assertRefused(
    {
      model: "m",
      messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "data:,x" } }] }],
    },
    "messages[0].content[0].image_url.url",
    "invalid_request",
  );
  assertRefused(
    {
      model: "m",
      messages: [{
        role: "user",
        content: [{ type: "image_url", image_url: { url: "https://x/y.png", detail: "low" } }],
      }],
    },
    "messages[0].content[0].image_url.detail",
  );
  assertRefused(
    { model: "m", messages: [{ role: "user", content: [{ type: "input_audio" }] }] },
    "messages[0].content[0].type",
  );
});

Deno.test("tool calls become tool_use blocks, tool results one user turn", () => {
  const out = toMessagesRequest({
    model: "m",
    messages: [
      { role: "user", content: "weather in Paris and Rome?" },
      {
        role: "assistant",
        content: null,
        tool_calls: [
          {
            id: "c1",
            type: "function",
            function: { name: "weather", arguments: '{"city":"Paris"}' },
          },
          {
            id: "c2",
            type: "function",
            function: { name: "weather", arguments: '{"city":"Rome"}' },
          },
        ],
      },
      { role: "tool", tool_call_id: "c1", content: "sunny" },
      { role: "tool", tool_call_id: "c2", content: [{ type: "text", text: "rain" }] },
      { role: "user", content: "thanks" },
    ],
  });
  assert.deepEqual(out.messages, [
    { role: "user", content: [{ type: "text", text: "weather in Paris and Rome?" }] },
    {
      role: "assistant",
      content: [
        { type: "tool_use", id: "c1", name: "weather", input: { city: "Paris" } },
        { type: "tool_use", id: "c2", name: "weather", input: { city: "Rome" } },
      ],
    },
    {
      role: "user",
      content: [
        { type: "tool_result", tool_use_id: "c1", content: "sunny" },
        { type: "tool_result", tool_use_id: "c2", content: [{ type: "text", text: "rain" }] },
        { type: "text", text: "thanks" },
      ],
    },
  ]);
});

Deno.test("tool arguments that are not a JSON object are refused", () => {
  assertRefused(
    {
      model: "m",
      messages: [{
        role: "assistant",
        tool_calls: [{ id: "c1", type: "function", function: { name: "f", arguments: "[1]" } }],
      }],
    },
    "messages[0].tool_calls[0].function.arguments",
    "invalid_request",
  );
});

Deno.test("tools get input_schema, and each tool_choice its Messages form", () => {
  const tools = [
    {
      type: "function",
      function: {
        name: "weather",
        description: "Weather of a city",
        parameters: { type: "object", properties: { city: { type: "string" } } },
      },
    },
    { type: "function", function: { name: "now" } },
  ];
  const out = toMessagesRequest({ model: "m", messages: HI, tools });
  assert.deepEqual(out.tools, [
    {
      name: "weather",
      description: "Weather of a city",
      input_schema: { type: "object", properties: { city: { type: "string" } } },
    },
    { name: "now", input_schema: { type: "object", properties: {} } },
  ]);
  assert.equal(out.tool_choice, undefined);
  const choice = (tool_choice: unknown) =>
    toMessagesRequest({ model: "m", messages: HI, tools, tool_choice }).tool_choice;
  assert.deepEqual(choice("auto"), { type: "auto" });
  assert.deepEqual(choice("none"), { type: "none" });
  assert.deepEqual(choice("required"), { type: "any" });
  assert.deepEqual(choice({ type: "function", function: { name: "now" } }), {
    type: "tool",
    name: "now",
  });
  assert.deepEqual(
    toMessagesRequest({ model: "m", messages: HI, tools, parallel_tool_calls: false }).tool_choice,
    { type: "auto", disable_parallel_tool_use: true },
  );
  assert.deepEqual(
    toMessagesRequest({
      model: "m",
      messages: HI,
      tools,
      tool_choice: "required",
      parallel_tool_calls: false,
    }).tool_choice,
    { type: "any", disable_parallel_tool_use: true },
  );
  assert.deepEqual(
    toMessagesRequest({
      model: "m",
      messages: HI,
      tools,
      tool_choice: "none",
      parallel_tool_calls: false,
    }).tool_choice,
    { type: "none" },
  );
  assertRefused(
    { model: "m", messages: HI, tools, tool_choice: "sometimes" },
    "tool_choice",
    "invalid_request",
  );
  assertRefused(
    {
      model: "m",
      messages: HI,
      tools: [{ type: "function", function: { name: "f", strict: true } }],
    },
    "tools[0].function.strict",
  );
});

Deno.test("fields Messages has no place for are refused by name, never dropped", () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ n: 2 }, "n"],
    [{ logprobs: true }, "logprobs"],
    [{ top_logprobs: 2 }, "top_logprobs"],
    [
      { response_format: { type: "json_schema", json_schema: { name: "x", schema: {} } } },
      "response_format.type",
    ],
    [{ response_format: { type: "json_object" } }, "response_format.type"],
    [{ seed: 1 }, "seed"],
    [{ frequency_penalty: 0.5 }, "frequency_penalty"],
    [{ presence_penalty: 0.5 }, "presence_penalty"],
    [{ logit_bias: { "1": 2 } }, "logit_bias"],
    [{ reasoning_effort: "low" }, "reasoning_effort"],
    [{ store: true }, "store"],
    [
      { stream: true, stream_options: { include_obfuscation: true } },
      "stream_options.include_obfuscation",
    ],
    [{ messages: [{ role: "user", content: "hi", name: "ann" }] }, "messages[0].name"],
    [{ messages: [{ role: "function", content: "x", name: "f" }] }, "messages[0].role"],
  ];
  for (const [fields, param] of cases) {
    const error = assertRefused({ model: "m", messages: HI, ...fields }, param);
    assert.match(error.message, /no equivalent in Anthropic's Messages API/);
  }
  assert.equal(
    toMessagesRequest({ model: "m", messages: HI, response_format: { type: "text" } })
      .response_format,
    undefined,
  );
});

Deno.test("a request without model or messages is refused", () => {
  assertRefused({ messages: HI }, "model", "invalid_request");
  assertRefused({ model: "m" }, "messages", "invalid_request");
  assertRefused({ model: "m", messages: [] }, "messages", "invalid_request");
  assertRefused(
    { model: "m", messages: [{ role: "robot", content: "x" }] },
    "messages[0].role",
    "invalid_request",
  );
  assertRefused(
    { model: "m", messages: HI, stream_options: { include_usage: true } },
    "stream_options",
    "invalid_request",
  );
});

import assert from "node:assert/strict";
import { assertBadAnswer, assertRefused } from "./_testing.ts";
import { fromOllamaChat, toOllamaChat } from "./chat.ts";

const user = { role: "user", content: "Hi" };
const chat = (fields: Record<string, unknown>) =>
  toOllamaChat({ model: "llama3", messages: [user], ...fields });
const context = { id: "chatcmpl-abc123", created: 1700000000, model: "asked" };

Deno.test("toOllamaChat maps a minimal request without inventing a field", () => {
  assert.deepEqual(toOllamaChat({ model: "llama3", messages: [user] }), {
    model: "llama3",
    messages: [{ role: "user", content: "Hi" }],
    stream: false,
  });
});

Deno.test("toOllamaChat always says whether to stream", () => {
  assert.equal(chat({ stream: true }).stream, true);
  assert.equal(chat({ stream: false }).stream, false);
  assert.equal(chat({}).stream, false);
});

Deno.test("toOllamaChat maps sampling fields into options", () => {
  const body = chat({
    max_tokens: 64,
    temperature: 0.5,
    top_p: 0.9,
    seed: 7,
    frequency_penalty: 0.1,
    presence_penalty: -0.2,
    stop: "END",
  });
  assert.deepEqual(body.options, {
    num_predict: 64,
    temperature: 0.5,
    top_p: 0.9,
    seed: 7,
    frequency_penalty: 0.1,
    presence_penalty: -0.2,
    stop: ["END"],
  });
  assert.deepEqual(chat({ stop: ["a", "b"] }).options, { stop: ["a", "b"] });
});

Deno.test("toOllamaChat takes either token limit, but not two that disagree", () => {
  assert.deepEqual(chat({ max_completion_tokens: 10 }).options, { num_predict: 10 });
  assert.deepEqual(chat({ max_tokens: 10, max_completion_tokens: 10 }).options, {
    num_predict: 10,
  });
  assertRefused(
    () => chat({ max_tokens: 10, max_completion_tokens: 20 }),
    "invalid_request",
    "max_completion_tokens",
  );
  assertRefused(() => chat({ max_tokens: 0 }), "invalid_request", "max_tokens");
});

Deno.test("toOllamaChat merges the client's options under the mapped ones", () => {
  const body = chat({ options: { temperature: 0.1, num_ctx: 4096 }, temperature: 0.5 });
  assert.deepEqual(body.options, { temperature: 0.5, num_ctx: 4096 });
  assert.deepEqual(chat({ options: {} }).options, {});
  assertRefused(() => chat({ options: [1] }), "invalid_request", "options");
});

Deno.test("toOllamaChat passes Ollama's own fields through", () => {
  const body = chat({ keep_alive: "5m", think: true, format: "json" });
  assert.equal(body.keep_alive, "5m");
  assert.equal(body.think, true);
  assert.equal(body.format, "json");
  assert.equal(chat({ keep_alive: 0 }).keep_alive, 0);
  const schema = { type: "object", properties: { a: { type: "string" } } };
  assert.deepEqual(chat({ format: schema }).format, schema);
  assertRefused(() => chat({ keep_alive: true }), "invalid_request", "keep_alive");
  assertRefused(() => chat({ format: "yaml" }), "invalid_request", "format");
  assertRefused(() => chat({ think: 1 }), "invalid_request", "think");
});

Deno.test("toOllamaChat maps response_format to format", () => {
  assert.equal(chat({ response_format: { type: "json_object" } }).format, "json");
  const schema = { type: "object", properties: { n: { type: "integer" } } };
  const body = chat({
    response_format: { type: "json_schema", json_schema: { name: "n", strict: true, schema } },
  });
  assert.deepEqual(body.format, schema);
  assert.equal("format" in chat({ response_format: { type: "text" } }), false);
  assert.equal(chat({ response_format: { type: "text" }, format: "json" }).format, "json");
  assertRefused(
    () => chat({ response_format: { type: "xml" } }),
    "unsupported_parameter",
    "response_format.type",
  );
  assertRefused(
    () => chat({ response_format: { type: "json_schema", json_schema: { name: "n" } } }),
    "invalid_request",
    "response_format.json_schema.schema",
  );
  assertRefused(
    () => chat({ format: "json", response_format: { type: "json_object" } }),
    "invalid_request",
    "response_format",
  );
  assertRefused(
    () => chat({ response_format: { type: "json_object" }, format: "json" }),
    "invalid_request",
    "format",
  );
});

Deno.test("toOllamaChat maps reasoning_effort to think", () => {
  assert.equal(chat({ reasoning_effort: "low" }).think, "low");
  assert.equal(chat({ reasoning_effort: "medium" }).think, "medium");
  assert.equal(chat({ reasoning_effort: "high" }).think, "high");
  assert.equal(chat({ reasoning_effort: "none" }).think, false);
  assertRefused(
    () => chat({ reasoning_effort: "minimal" }),
    "unsupported_parameter",
    "reasoning_effort",
  );
  assertRefused(
    () => chat({ think: true, reasoning_effort: "high" }),
    "invalid_request",
    "reasoning_effort",
  );
});

Deno.test("toOllamaChat accepts n of 1 only", () => {
  assert.equal("n" in chat({ n: 1 }), false);
  assertRefused(() => chat({ n: 2 }), "unsupported_parameter", "n");
  assertRefused(() => chat({ n: "1" }), "invalid_request", "n");
});

Deno.test("toOllamaChat accepts stream_options with a stream only", () => {
  const body = chat({ stream: true, stream_options: { include_usage: true } });
  assert.equal(body.stream, true);
  assert.equal("stream_options" in body, false);
  assertRefused(
    () => chat({ stream_options: { include_usage: true } }),
    "invalid_request",
    "stream_options",
  );
  assertRefused(
    () => chat({ stream: true, stream_options: { include_usage: "yes" } }),
    "invalid_request",
    "stream_options.include_usage",
  );
  assertRefused(
    () => chat({ stream: true, stream_options: { include_obfuscation: true } }),
    "unsupported_parameter",
    "stream_options.include_obfuscation",
  );
  assertRefused(() => chat({ stream: "yes" }), "invalid_request", "stream");
});

Deno.test("toOllamaChat refuses every field Ollama cannot honour, naming it", () => {
  const fields: Record<string, unknown> = {
    logprobs: true,
    top_logprobs: 2,
    logit_bias: { "50256": -100 },
    user: "u-1",
    parallel_tool_calls: false,
    modalities: ["text", "audio"],
    audio: { voice: "alloy", format: "wav" },
    prediction: { type: "content", content: "x" },
    service_tier: "flex",
    store: true,
    metadata: { a: "b" },
    web_search_options: {},
    functions: [],
  };
  for (const [field, value] of Object.entries(fields)) {
    const error = assertRefused(() => chat({ [field]: value }), "unsupported_parameter", field);
    assert.match(error.message, new RegExp(`"${field}"`));
    assert.match(error.message, /Ollama's native \/api\/chat/);
    assert.match(error.message, /\/v1\/chat\/completions\) passes it through/);
  }
});

Deno.test("toOllamaChat skips null fields and OpenAI's default logprobs: false", () => {
  assert.deepEqual(chat({ temperature: null, user: null, tools: null, logprobs: false }), {
    model: "llama3",
    messages: [{ role: "user", content: "Hi" }],
    stream: false,
  });
});

Deno.test("toOllamaChat validates the fields it maps", () => {
  assertRefused(() => toOllamaChat({ messages: [user] }), "invalid_request", "model");
  assertRefused(() => chat({ model: "" }), "invalid_request", "model");
  assertRefused(() => chat({ model: 3 }), "invalid_request", "model");
  assertRefused(() => toOllamaChat({ model: "m" }), "invalid_request", "messages");
  assertRefused(() => chat({ messages: "Hi" }), "invalid_request", "messages");
  assertRefused(() => chat({ messages: [] }), "invalid_request", "messages");
  assertRefused(() => chat({ messages: [user, "Hi"] }), "invalid_request", "messages[1]");
  assertRefused(
    () => chat({ messages: [{ content: "Hi" }] }),
    "invalid_request",
    "messages[0].role",
  );
  assertRefused(
    () => chat({ messages: [{ role: "robot", content: "Hi" }] }),
    "invalid_request",
    "messages[0].role",
  );
  assertRefused(
    () => chat({ messages: [{ role: "user", content: 5 }] }),
    "invalid_request",
    "messages[0].content",
  );
  assertRefused(() => chat({ temperature: "hot" }), "invalid_request", "temperature");
  assertRefused(() => chat({ temperature: NaN }), "invalid_request", "temperature");
  assertRefused(() => chat({ seed: 1.5 }), "invalid_request", "seed");
  assertRefused(() => chat({ stop: ["a", 1] }), "invalid_request", "stop[1]");
  assertRefused(() => chat({ tools: {} }), "invalid_request", "tools");
  assertRefused(() => chat({ tools: ["f"] }), "invalid_request", "tools[0]");
});

Deno.test("toOllamaChat maps roles, and refuses message fields it cannot carry", () => {
  const body = chat({
    messages: [
      { role: "developer", content: "Be brief" },
      { role: "system", content: "Be kind" },
      user,
      { role: "assistant", content: "Hello", reasoning_content: "They greeted me" },
    ],
  });
  assert.deepEqual(body.messages, [
    { role: "system", content: "Be brief" },
    { role: "system", content: "Be kind" },
    { role: "user", content: "Hi" },
    { role: "assistant", content: "Hello", thinking: "They greeted me" },
  ]);
  assertRefused(
    () => chat({ messages: [{ role: "user", content: "Hi", name: "ann" }] }),
    "unsupported_parameter",
    "messages[0].name",
  );
  assertRefused(
    () => chat({ messages: [{ role: "function", name: "f", content: "1" }] }),
    "unsupported_parameter",
    "messages[0].role",
  );
  assertRefused(
    () => chat({ messages: [{ role: "assistant", content: "", refusal: "No" }] }),
    "unsupported_parameter",
    "messages[0].refusal",
  );
});

Deno.test("toOllamaChat joins text parts and inlines base64 images", () => {
  const body = chat({
    messages: [{
      role: "user",
      content: [
        { type: "text", text: "What is this?" },
        { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
        { type: "text", text: "Be precise." },
        {
          type: "image_url",
          image_url: { url: "data:image/jpeg;base64,/9j/4AAQ", detail: "auto" },
        },
      ],
    }, { role: "system", content: [{ type: "text", text: "Only text" }] }],
  });
  assert.deepEqual(body.messages, [
    {
      role: "user",
      content: "What is this?\nBe precise.",
      images: ["iVBORw0KGgo=", "/9j/4AAQ"],
    },
    { role: "system", content: "Only text" },
  ]);
});

Deno.test("toOllamaChat refuses images it cannot inline, and other parts", () => {
  const withPart = (part: unknown) =>
    chat({
      messages: [user, user, { role: "user", content: [{ type: "text", text: "Look" }, part] }],
    });
  const error = assertRefused(
    () => withPart({ type: "image_url", image_url: { url: "https://example.com/cat.png" } }),
    "unsupported_parameter",
    "messages[2].content[1].image_url",
  );
  assert.match(error.message, /does not fetch URLs/);
  assertRefused(
    () => withPart({ type: "image_url", image_url: { url: "data:image/svg+xml,<svg/>" } }),
    "invalid_request",
    "messages[2].content[1].image_url",
  );
  assertRefused(
    () => withPart({ type: "image_url", image_url: { url: "data:text/plain;base64,aGk=" } }),
    "invalid_request",
    "messages[2].content[1].image_url",
  );
  assertRefused(
    () => withPart({ type: "image_url", image_url: "data:image/png;base64,aGk=" }),
    "invalid_request",
    "messages[2].content[1].image_url",
  );
  assertRefused(
    () =>
      withPart({
        type: "image_url",
        image_url: { url: "data:image/png;base64,aGk=", detail: "high" },
      }),
    "unsupported_parameter",
    "messages[2].content[1].image_url.detail",
  );
  assertRefused(
    () => withPart({ type: "input_audio", input_audio: { data: "x", format: "wav" } }),
    "unsupported_parameter",
    "messages[2].content[1].type",
  );
  assertRefused(
    () => withPart({ type: "file", file: { file_id: "f" } }),
    "unsupported_parameter",
    "messages[2].content[1].type",
  );
  assertRefused(() => withPart({ type: "text" }), "invalid_request", "messages[2].content[1].text");
});

const weatherCall = {
  id: "call_1",
  type: "function",
  function: { name: "get_weather", arguments: '{"city":"Paris"}' },
};

Deno.test("toOllamaChat maps tool calls and names tool results by their tool", () => {
  const tools = [{ type: "function", function: { name: "get_weather", parameters: {} } }];
  const body = chat({
    tools,
    tool_choice: "auto",
    messages: [
      user,
      { role: "assistant", content: null, tool_calls: [weatherCall] },
      { role: "tool", tool_call_id: "call_1", content: "Sunny" },
      { role: "tool", tool_call_id: "call_1", content: [{ type: "text", text: "Warm" }] },
    ],
  });
  assert.deepEqual(body.tools, tools);
  assert.deepEqual(body.messages, [
    { role: "user", content: "Hi" },
    {
      role: "assistant",
      content: "",
      tool_calls: [{ function: { name: "get_weather", arguments: { city: "Paris" } } }],
    },
    { role: "tool", content: "Sunny", tool_name: "get_weather" },
    { role: "tool", content: "Warm", tool_name: "get_weather" },
  ]);
});

Deno.test("toOllamaChat refuses tool calls it cannot map", () => {
  const withCall = (call: unknown) =>
    chat({ messages: [user, { role: "assistant", content: null, tool_calls: [call] }] });
  assertRefused(
    () => withCall({ ...weatherCall, function: { name: "f", arguments: "{city:" } }),
    "invalid_request",
    "messages[1].tool_calls[0].function.arguments",
  );
  assertRefused(
    () => withCall({ ...weatherCall, function: { name: "f", arguments: "[1]" } }),
    "invalid_request",
    "messages[1].tool_calls[0].function.arguments",
  );
  assertRefused(
    () => withCall({ ...weatherCall, function: { name: "f", arguments: { city: "Paris" } } }),
    "invalid_request",
    "messages[1].tool_calls[0].function.arguments",
  );
  assertRefused(
    () => withCall({ ...weatherCall, id: undefined }),
    "invalid_request",
    "messages[1].tool_calls[0].id",
  );
  assertRefused(
    () => withCall({ ...weatherCall, type: "custom" }),
    "unsupported_parameter",
    "messages[1].tool_calls[0].type",
  );
  assertRefused(
    () => chat({ messages: [user, { role: "tool", tool_call_id: "call_9", content: "?" }] }),
    "invalid_request",
    "messages[1].tool_call_id",
  );
  assertRefused(
    () => chat({ messages: [user, { role: "tool", content: "?" }] }),
    "invalid_request",
    "messages[1].tool_call_id",
  );
  // A result may only name a call made before it.
  assertRefused(
    () =>
      chat({
        messages: [
          { role: "tool", tool_call_id: "call_1", content: "Sunny" },
          { role: "assistant", content: null, tool_calls: [weatherCall] },
        ],
      }),
    "invalid_request",
    "messages[0].tool_call_id",
  );
});

Deno.test("toOllamaChat honours tool_choice auto and none, and refuses the rest", () => {
  const tools = [{ type: "function", function: { name: "f" } }];
  assert.deepEqual(chat({ tools }).tools, tools);
  assert.equal("tools" in chat({ tools, tool_choice: "none" }), false);
  assert.equal("tools" in chat({ tool_choice: "none", tools }), false);
  assertRefused(
    () => chat({ tools, tool_choice: "required" }),
    "unsupported_parameter",
    "tool_choice",
  );
  assertRefused(
    () => chat({ tools, tool_choice: { type: "function", function: { name: "f" } } }),
    "unsupported_parameter",
    "tool_choice",
  );
});

Deno.test("toOllamaChat leaves the client's body as it was", () => {
  const body = {
    model: "m",
    messages: [user, { role: "assistant", content: null, tool_calls: [weatherCall] }],
    options: { num_ctx: 8 },
    temperature: 1,
  };
  const copy = structuredClone(body);
  toOllamaChat(body);
  assert.deepEqual(body, copy);
});

Deno.test("fromOllamaChat maps an answer to a chat.completion", () => {
  const answer = {
    model: "llama3:8b",
    created_at: "2024-01-01T00:00:00Z",
    message: { role: "assistant", content: "Hello!" },
    done: true,
    done_reason: "stop",
    total_duration: 123,
    prompt_eval_count: 12,
    eval_count: 3,
  };
  assert.deepEqual(fromOllamaChat(answer, context), {
    id: "chatcmpl-abc123",
    object: "chat.completion",
    created: 1700000000,
    model: "llama3:8b",
    choices: [{
      index: 0,
      message: { role: "assistant", content: "Hello!" },
      finish_reason: "stop",
      logprobs: null,
    }],
    usage: { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 },
  });
});

Deno.test("fromOllamaChat falls back to the asked model and zero counts", () => {
  const answer = fromOllamaChat(
    { message: { role: "assistant", content: "x" }, done: true },
    context,
  );
  assert.equal(answer.model, "asked");
  assert.deepEqual(answer.usage, { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 });
});

Deno.test("fromOllamaChat reports a length stop, and thinking as reasoning_content", () => {
  const answer = fromOllamaChat({
    model: "qwen3",
    message: { role: "assistant", content: "Four", thinking: "2+2" },
    done: true,
    done_reason: "length",
  }, context);
  assert.deepEqual(answer.choices, [{
    index: 0,
    message: { role: "assistant", content: "Four", reasoning_content: "2+2" },
    finish_reason: "length",
    logprobs: null,
  }]);
});

Deno.test("fromOllamaChat maps tool calls with unique ids and JSON arguments", () => {
  const answer = fromOllamaChat({
    model: "llama3",
    message: {
      role: "assistant",
      content: "",
      tool_calls: [
        { function: { name: "get_weather", arguments: { city: "Paris" } } },
        { function: { name: "now", arguments: null } },
        { id: "call_x", function: { index: 2, name: "now", arguments: {} } },
      ],
    },
    done: true,
    done_reason: "stop",
    prompt_eval_count: 5,
    eval_count: 9,
  }, context);
  assert.deepEqual(answer.choices, [{
    index: 0,
    message: {
      role: "assistant",
      content: null,
      tool_calls: [
        {
          id: "call_0_abc123",
          type: "function",
          function: { name: "get_weather", arguments: '{"city":"Paris"}' },
        },
        { id: "call_1_abc123", type: "function", function: { name: "now", arguments: "{}" } },
        { id: "call_x", type: "function", function: { name: "now", arguments: "{}" } },
      ],
    },
    finish_reason: "tool_calls",
    logprobs: null,
  }]);
});

Deno.test("fromOllamaChat keeps content said beside tool calls", () => {
  const answer = fromOllamaChat({
    message: {
      role: "assistant",
      content: "Checking",
      tool_calls: [{ function: { name: "f", arguments: {} } }],
    },
  }, context);
  const [choice] = answer.choices as { message: { content: unknown } }[];
  assert.equal(choice!.message.content, "Checking");
});

Deno.test("fromOllamaChat refuses answers of the wrong shape with 502", () => {
  assertBadAnswer(() => fromOllamaChat("Hello", context));
  assertBadAnswer(() => fromOllamaChat(null, context));
  assertBadAnswer(() => fromOllamaChat({ response: "Hello" }, context));
  assertBadAnswer(() => fromOllamaChat({ message: { content: 1 } }, context));
  assertBadAnswer(() => fromOllamaChat({ model: 1, message: { content: "" } }, context));
  assertBadAnswer(() => fromOllamaChat({ message: { content: "", tool_calls: {} } }, context));
  assertBadAnswer(() =>
    fromOllamaChat({ message: { content: "", tool_calls: [{ name: "f" }] } }, context)
  );
  assertBadAnswer(() =>
    fromOllamaChat({
      message: { content: "", tool_calls: [{ function: { name: "f", arguments: "{}" } }] },
    }, context)
  );
  assertBadAnswer(() =>
    fromOllamaChat({ message: { content: "" }, prompt_eval_count: "3" }, context)
  );
  const choices = [{ message: { content: "Hi" } }];
  assertBadAnswer(() => fromOllamaChat({ choices }, context));
});

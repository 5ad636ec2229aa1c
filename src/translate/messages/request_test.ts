import assert from "node:assert/strict";
import { GatewayError } from "../../errors.ts";
import { readMessagesRequest, toChatRequest } from "./request.ts";

/** The chat request a Messages request becomes. */
function chatOf(request: Record<string, unknown>): Record<string, unknown> {
  return toChatRequest(readMessagesRequest({ model: "m", max_tokens: 100, ...request }));
}

/** The 400 a Messages request gets, as its message. */
function refusalOf(request: Record<string, unknown>): GatewayError {
  try {
    chatOf(request);
  } catch (error) {
    assert.ok(error instanceof GatewayError, String(error));
    assert.equal(error.status, 400);
    return error;
  }
  assert.fail("the request was translated");
}

Deno.test("system, text, sampling and metadata have their chat places", () => {
  const chat = chatOf({
    system: [{ type: "text", text: "Be brief." }, { type: "text", text: "Be kind." }],
    messages: [{ role: "user", content: "Hi" }, {
      role: "assistant",
      content: [{ type: "text", text: "Hello" }],
    }, {
      role: "user",
      content: [{ type: "text", text: "Bye", cache_control: { type: "ephemeral" } }],
    }],
    stop_sequences: ["END"],
    temperature: 0.5,
    top_p: 0.9,
    top_k: 40,
    metadata: { user_id: "u-1" },
  });
  assert.deepEqual(chat, {
    model: "m",
    max_tokens: 100,
    messages: [
      { role: "system", content: "Be brief.\n\nBe kind." },
      { role: "user", content: "Hi" },
      { role: "assistant", content: "Hello" },
      { role: "user", content: "Bye" },
    ],
    stop: ["END"],
    temperature: 0.5,
    top_p: 0.9,
    top_k: 40,
    user: "u-1",
  });
});

Deno.test("a stream asks for usage at its end", () => {
  const chat = chatOf({ stream: true, messages: [{ role: "user", content: "Hi" }] });
  assert.equal(chat.stream, true);
  assert.deepEqual(chat.stream_options, { include_usage: true });
});

Deno.test("images become image_url parts, inline ones as data URLs", () => {
  const chat = chatOf({
    messages: [{
      role: "user",
      content: [
        { type: "text", text: "What is this?" },
        { type: "image", source: { type: "base64", media_type: "image/png", data: "AAAA" } },
        { type: "image", source: { type: "url", url: "https://example.com/a.jpg" } },
      ],
    }],
  });
  assert.deepEqual(chat.messages, [{
    role: "user",
    content: [
      { type: "text", text: "What is this?" },
      { type: "image_url", image_url: { url: "data:image/png;base64,AAAA" } },
      { type: "image_url", image_url: { url: "https://example.com/a.jpg" } },
    ],
  }]);
});

Deno.test("a plain-text document becomes text with its title", () => {
  const chat = chatOf({
    messages: [{
      role: "user",
      content: [{
        type: "document",
        title: "Notes",
        source: { type: "text", media_type: "text/plain", data: "The notes." },
      }],
    }],
  });
  assert.deepEqual(chat.messages, [{ role: "user", content: "Notes\n\nThe notes." }]);
});

Deno.test("a PDF, a document URL and a Files API image are refused by field", () => {
  const pdf = refusalOf({
    messages: [{
      role: "user",
      content: [{ type: "text", text: "Read" }, {
        type: "document",
        source: { type: "base64", media_type: "application/pdf", data: "JVBER" },
      }],
    }],
  });
  assert.equal(pdf.param, "messages[0].content[1].source");
  assert.match(pdf.message, /^messages\[0\]\.content\[1\]\.source: a PDF cannot be sent/);
  const url = refusalOf({
    messages: [{
      role: "user",
      content: [{ type: "document", source: { type: "url", url: "https://example.com/a.pdf" } }],
    }],
  });
  assert.equal(url.param, "messages[0].content[0].source");
  const file = refusalOf({
    messages: [{
      role: "user",
      content: [{ type: "image", source: { type: "file", file_id: "f" } }],
    }],
  });
  assert.equal(file.param, "messages[0].content[0].source");
});

Deno.test("tool use and tool results become tool calls and tool messages, in chat's order", () => {
  const chat = chatOf({
    messages: [
      { role: "user", content: "Weather in Paris?" },
      {
        role: "assistant",
        content: [
          { type: "thinking", thinking: "Use the tool.", signature: "sig" },
          { type: "text", text: "Checking." },
          { type: "tool_use", id: "toolu_1", name: "weather", input: { city: "Paris" } },
        ],
      },
      {
        role: "user",
        content: [
          { type: "text", text: "Here:" },
          {
            type: "tool_result",
            tool_use_id: "toolu_1",
            content: [{ type: "text", text: "Sunny" }],
          },
          { type: "tool_result", tool_use_id: "toolu_2", content: "no such city", is_error: true },
        ],
      },
    ],
    tools: [{
      name: "weather",
      description: "The weather",
      input_schema: { type: "object", properties: { city: { type: "string" } } },
    }],
    tool_choice: { type: "tool", name: "weather", disable_parallel_tool_use: true },
  });
  assert.deepEqual(chat.messages, [
    { role: "user", content: "Weather in Paris?" },
    {
      role: "assistant",
      content: "Checking.",
      reasoning_content: "Use the tool.",
      tool_calls: [{
        id: "toolu_1",
        type: "function",
        function: { name: "weather", arguments: '{"city":"Paris"}' },
      }],
    },
    { role: "tool", tool_call_id: "toolu_1", content: "Sunny" },
    { role: "tool", tool_call_id: "toolu_2", content: "Error: no such city" },
    { role: "user", content: "Here:" },
  ]);
  assert.deepEqual(chat.tools, [{
    type: "function",
    function: {
      name: "weather",
      description: "The weather",
      parameters: { type: "object", properties: { city: { type: "string" } } },
    },
  }]);
  assert.deepEqual(chat.tool_choice, { type: "function", function: { name: "weather" } });
  assert.equal(chat.parallel_tool_calls, false);
});

Deno.test("tool_choice auto, any and none", () => {
  const choice = (type: string) =>
    chatOf({ messages: [{ role: "user", content: "x" }], tool_choice: { type } }).tool_choice;
  assert.equal(choice("auto"), "auto");
  assert.equal(choice("any"), "required");
  assert.equal(choice("none"), "none");
});

Deno.test("an assistant turn of tool calls only has null content", () => {
  const chat = chatOf({
    messages: [{
      role: "assistant",
      content: [{ type: "tool_use", id: "t", name: "f", input: {} }],
    }],
  });
  assert.deepEqual((chat.messages as Record<string, unknown>[])[0]?.content, null);
});

Deno.test("thinking turns the chat template's enable_thinking on or off", () => {
  const on = chatOf({
    messages: [{ role: "user", content: "x" }],
    thinking: { type: "enabled", budget_tokens: 50 },
  });
  assert.deepEqual(on.chat_template_kwargs, { enable_thinking: true });
  const off = chatOf({
    messages: [{ role: "user", content: "x" }],
    thinking: { type: "disabled" },
  });
  assert.deepEqual(off.chat_template_kwargs, { enable_thinking: false });
});

Deno.test("a field chat has no place for is refused by its name", () => {
  const top = refusalOf({ messages: [{ role: "user", content: "x" }], container: "c-1" });
  assert.equal(top.param, "container");
  assert.match(top.message, /^container: this field has no equivalent/);
  const server = refusalOf({
    messages: [{ role: "user", content: "x" }],
    tools: [{ type: "web_search_20250305", name: "web_search" }],
  });
  assert.match(server.param ?? "", /^tools\[0\]/);
  const block = refusalOf({
    messages: [{ role: "user", content: [{ type: "search_result", source: "s", title: "t" }] }],
  });
  assert.equal(block.param, "messages[0].content[0].type");
  const redacted = refusalOf({
    messages: [{ role: "assistant", content: [{ type: "redacted_thinking", data: "x" }] }],
  });
  assert.equal(redacted.param, "messages[0].content[0]");
  const image = refusalOf({
    messages: [{
      role: "user",
      content: [{
        type: "tool_result",
        tool_use_id: "t",
        content: [{ type: "image", source: { type: "url", url: "https://example.com/a.png" } }],
      }],
    }],
  });
  assert.equal(image.param, "messages[0].content[0].content[0]");
});

Deno.test("a missing or mistyped field is a 400 naming it", () => {
  const missing = (() => {
    try {
      readMessagesRequest({ model: "m", messages: [] });
    } catch (error) {
      return error;
    }
  })();
  assert.ok(missing instanceof GatewayError);
  assert.equal(missing.status, 400);
  assert.equal(missing.param, "max_tokens");
});

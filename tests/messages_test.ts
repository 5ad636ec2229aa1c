/**
 * `POST /v1/messages` and `/v1/messages/count_tokens`: the official Anthropic SDK, unmodified,
 * against a chat completions backend (translated both ways) and a backend that speaks the
 * Messages API itself (passed through), with errors in Anthropic's shape.
 */
import assert from "node:assert/strict";
import Anthropic from "@anthropic-ai/sdk";
import { startGateway, type TestGateway } from "./fixtures/gateway.ts";
import {
  chatAnswer,
  chatChunk,
  chatStreamAnswer,
  nativeMessage,
  nativeScript,
  type Script,
  type ScriptedBackend,
  startScriptedBackend,
  usageChunk,
} from "./fixtures/messages_backends.ts";
import { closedPortUrl } from "./fixtures/ports.ts";
import { startFakeBackend } from "./fixtures/fake_backend.ts";
import { within } from "./fixtures/gate.ts";
import { startScriptedServer } from "./fixtures/raw_http.ts";

const MODEL = "m";

/** A gateway whose chat model `m` is on `backend` (adapter `openai`, or as `adapter` says). */
async function gatewayFor(
  backends: readonly ScriptedBackend[] | readonly string[],
  options: { adapter?: string; extra?: string; model?: string } = {},
): Promise<TestGateway> {
  const urls = backends.map((backend) => typeof backend === "string" ? backend : backend.url);
  return await startGateway(`${options.extra ?? ""}model:
${options.model ?? ""}  services:
    chat:
      instances:
${
    urls.map((url) =>
      `        - { name: ${MODEL}, base-url: "${url}", adapter: ${options.adapter ?? "openai"} }`
    )
      .join("\n")
  }
`);
}

function sdk(gateway: TestGateway, apiKey = "sk-client"): Anthropic {
  return new Anthropic({ baseURL: gateway.url, apiKey, maxRetries: 0 });
}

/** A chat backend that answers `Hello` (streamed when asked). */
const hello: Script = (request) =>
  request.json?.stream === true
    ? chatStreamAnswer([
      chatChunk({ role: "assistant", content: "" }),
      chatChunk({ content: "Hel" }),
      chatChunk({ content: "lo" }),
      chatChunk({}, "stop"),
      usageChunk(11, 2),
    ])
    : chatAnswer({ content: "Hello" }, { usage: { prompt_tokens: 11, completion_tokens: 2 } });

/** The `error.type` of an Anthropic error body, checking its shape. */
function errorType(body: unknown): unknown {
  const { type, error } = body as { type?: unknown; error?: { type?: unknown } };
  assert.equal(type, "error");
  return error?.type;
}

async function post(gateway: TestGateway, path: string, body: unknown, headers = {}) {
  const response = await fetch(`${gateway.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

Deno.test("messages.create against a chat backend: translated there and back", async () => {
  await using backend = startScriptedBackend(hello);
  await using gateway = await gatewayFor([backend]);
  const message = await sdk(gateway).messages.create({
    model: MODEL,
    max_tokens: 64,
    system: "Be brief.",
    messages: [{ role: "user", content: "Hi" }],
    stop_sequences: ["END"],
  });
  assert.equal(message.type, "message");
  assert.equal(message.role, "assistant");
  assert.equal(message.model, MODEL);
  assert.deepEqual(message.content, [{ type: "text", text: "Hello" }]);
  assert.equal(message.stop_reason, "end_turn");
  assert.deepEqual(message.usage, { input_tokens: 11, output_tokens: 2 });
  assert.match(message.id, /^msg_/);
  const sent = backend.requests[0]!;
  assert.equal(sent.path, "/v1/chat/completions");
  assert.deepEqual(sent.json, {
    model: MODEL,
    max_tokens: 64,
    messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "Hi" }],
    stop: ["END"],
  });
});

Deno.test("messages.stream against a chat backend: Anthropic's events, usage at the end", async () => {
  await using backend = startScriptedBackend(hello);
  await using gateway = await gatewayFor([backend]);
  const stream = sdk(gateway).messages.stream({
    model: MODEL,
    max_tokens: 64,
    messages: [{ role: "user", content: "Hi" }],
  });
  const texts: string[] = [];
  stream.on("text", (text) => texts.push(text));
  const message = await stream.finalMessage();
  assert.deepEqual(texts, ["Hel", "lo"]);
  assert.deepEqual(message.content, [{ type: "text", text: "Hello" }]);
  assert.equal(message.stop_reason, "end_turn");
  assert.equal(message.usage.output_tokens, 2);
  assert.equal(message.usage.input_tokens, 11);
  const sent = backend.requests[0]!.json!;
  assert.equal(sent.stream, true);
  assert.deepEqual(sent.stream_options, { include_usage: true });
});

const WEATHER_TOOL = {
  name: "weather",
  description: "Current weather of a city",
  input_schema: {
    type: "object" as const,
    properties: { city: { type: "string" } },
    required: ["city"],
  },
};

/** A chat backend that calls `weather` until it is given the tool's result. */
const toolCaller: Script = (request) => {
  const messages = request.json?.messages as Record<string, unknown>[];
  const result = messages.find((message) => message.role === "tool");
  if (result) return chatAnswer({ content: `It is ${result.content}.` });
  const call = { id: "call_1", type: "function", function: { name: "weather" } };
  return request.json?.stream === true
    ? chatStreamAnswer([
      chatChunk({
        role: "assistant",
        tool_calls: [{ index: 0, ...call, function: { ...call.function, arguments: "" } }],
      }),
      chatChunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }),
      chatChunk({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }),
      chatChunk({}, "tool_calls"),
      usageChunk(20, 8),
    ])
    : chatAnswer({
      content: null,
      tool_calls: [{ ...call, function: { ...call.function, arguments: '{"city":"Paris"}' } }],
    }, { finish: "tool_calls" });
};

Deno.test("tools both ways through a chat backend: tool_use out, tool_result in", async () => {
  await using backend = startScriptedBackend(toolCaller);
  await using gateway = await gatewayFor([backend]);
  const client = sdk(gateway);
  const question = { role: "user" as const, content: "Weather in Paris?" };
  const first = await client.messages.create({
    model: MODEL,
    max_tokens: 64,
    tools: [WEATHER_TOOL],
    tool_choice: { type: "any" },
    messages: [question],
  });
  assert.equal(first.stop_reason, "tool_use");
  assert.deepEqual(first.content, [{
    type: "tool_use",
    id: "call_1",
    name: "weather",
    input: { city: "Paris" },
  }]);
  const sent = backend.requests[0]!.json!;
  assert.deepEqual(sent.tools, [{
    type: "function",
    function: {
      name: "weather",
      description: WEATHER_TOOL.description,
      parameters: WEATHER_TOOL.input_schema,
    },
  }]);
  assert.equal(sent.tool_choice, "required");

  const second = await client.messages.create({
    model: MODEL,
    max_tokens: 64,
    tools: [WEATHER_TOOL],
    messages: [question, { role: "assistant", content: first.content }, {
      role: "user",
      content: [{ type: "tool_result", tool_use_id: "call_1", content: "sunny" }],
    }],
  });
  assert.deepEqual(second.content, [{ type: "text", text: "It is sunny." }]);
  const followUp = backend.requests[1]!.json!.messages as unknown[];
  assert.deepEqual(followUp.slice(1), [
    {
      role: "assistant",
      content: null,
      tool_calls: [{
        id: "call_1",
        type: "function",
        function: { name: "weather", arguments: '{"city":"Paris"}' },
      }],
    },
    { role: "tool", tool_call_id: "call_1", content: "sunny" },
  ]);
});

Deno.test("a streamed tool call arrives as a tool_use block with input_json_delta", async () => {
  await using backend = startScriptedBackend(toolCaller);
  await using gateway = await gatewayFor([backend]);
  const stream = sdk(gateway).messages.stream({
    model: MODEL,
    max_tokens: 64,
    tools: [WEATHER_TOOL],
    messages: [{ role: "user", content: "Weather in Paris?" }],
  });
  const partials: string[] = [];
  stream.on("inputJson", (partial) => partials.push(partial));
  const message = await stream.finalMessage();
  assert.deepEqual(partials, ['{"city":', '"Paris"}']);
  assert.deepEqual(message.content, [{
    type: "tool_use",
    id: "call_1",
    name: "weather",
    input: { city: "Paris" },
  }]);
  assert.equal(message.stop_reason, "tool_use");
  assert.deepEqual(message.usage.output_tokens, 8);
});

Deno.test("a native Messages backend gets the body byte for byte and its answer unchanged", async () => {
  await using backend = startScriptedBackend(nativeScript);
  await using gateway = await gatewayFor([backend], { adapter: "vllm" });
  // Fields no chat backend could take pass to a native one untouched.
  const body = `{"model":"${MODEL}","max_tokens":10,  "container":"c-1",` +
    `"messages":[{"role":"user","content":"Hi"}]}`;
  const response = await post(gateway, "/v1/messages", body, {
    "anthropic-version": "2023-06-01",
    "anthropic-beta": "tools-2024-04-04",
    "x-api-key": "sk-client",
  });
  assert.equal(response.status, 200);
  assert.deepEqual(response.body, nativeMessage("native hi"));
  const sent = backend.requests[0]!;
  assert.equal(sent.path, "/v1/messages");
  assert.equal(sent.text, body);
  assert.equal(sent.headers.get("anthropic-version"), "2023-06-01");
  assert.equal(sent.headers.get("anthropic-beta"), "tools-2024-04-04");
});

Deno.test("the SDK streams and counts tokens through a native Messages backend", async () => {
  await using backend = startScriptedBackend(nativeScript);
  await using gateway = await gatewayFor([backend], { adapter: "ollama" });
  const client = sdk(gateway);
  const created = await client.messages.create({
    model: MODEL,
    max_tokens: 10,
    tools: [WEATHER_TOOL],
    messages: [{ role: "user", content: "Hi" }],
  });
  assert.deepEqual(created, nativeMessage("native hi"));
  assert.deepEqual(backend.requests[0]!.json?.tools, [WEATHER_TOOL], "tools reach it as sent");
  const message = await client.messages.stream({
    model: MODEL,
    max_tokens: 10,
    messages: [{ role: "user", content: "Hi" }],
  }).finalMessage();
  assert.equal(message.content[0]?.type === "text" && message.content[0].text, "native hi");
  const count = await client.messages.countTokens({
    model: MODEL,
    messages: [{ role: "user", content: "Hi" }],
  });
  assert.deepEqual(count, { input_tokens: 42 });
  assert.deepEqual(backend.requests.map((request) => request.path), [
    "/v1/messages",
    "/v1/messages",
    "/v1/messages/count_tokens",
  ]);
});

Deno.test("count_tokens for a chat-only model is a 404 that says why", async () => {
  await using backend = startScriptedBackend(hello);
  await using gateway = await gatewayFor([backend]);
  await assert.rejects(
    sdk(gateway).messages.countTokens({
      model: MODEL,
      messages: [{ role: "user", content: "Hi" }],
    }),
    (error) => {
      assert.ok(error instanceof Anthropic.NotFoundError, String(error));
      assert.equal(errorType(error.error), "not_found_error");
      assert.match(String(error.message), /Token counting is not available for model "m"/);
      return true;
    },
  );
  assert.equal(backend.requests.length, 0);
});

Deno.test("the gateway's own refusals on /v1/messages are in Anthropic's shape", async () => {
  await using backend = startScriptedBackend(hello);
  await using gateway = await gatewayFor([backend]);
  const unknown = await post(gateway, "/v1/messages", {
    model: "nope",
    max_tokens: 5,
    messages: [{ role: "user", content: "Hi" }],
  });
  assert.equal(unknown.status, 404);
  assert.equal(unknown.body.type, "error");
  assert.equal(unknown.body.error.type, "not_found_error");
  assert.match(unknown.body.error.message, /"nope"/);

  const badJson = await post(gateway, "/v1/messages", "{not json");
  assert.equal(badJson.status, 400);
  assert.equal(badJson.body.error.type, "invalid_request_error");

  const untranslatable = await post(gateway, "/v1/messages", {
    model: MODEL,
    max_tokens: 5,
    messages: [{
      role: "user",
      content: [{ type: "document", source: { type: "url", url: "https://example.com/a.pdf" } }],
    }],
  });
  assert.equal(untranslatable.status, 400);
  assert.deepEqual(Object.keys(untranslatable.body), ["type", "error"]);
  assert.equal(untranslatable.body.error.type, "invalid_request_error");
  assert.match(untranslatable.body.error.message, /^messages\[0\]\.content\[0\]\.source: /);

  const wrongMethod = await fetch(`${gateway.url}/v1/messages`);
  assert.equal(wrongMethod.status, 405);
  assert.equal((await wrongMethod.json()).error.type, "invalid_request_error");
  assert.equal(backend.requests.length, 0);
});

Deno.test("a chat backend's error answer comes back in Anthropic's shape, its status kept", async () => {
  await using backend = startScriptedBackend(() =>
    Response.json({
      error: { message: "context too long", type: "BadRequestError", param: null, code: 400 },
    }, { status: 400 })
  );
  await using gateway = await gatewayFor([backend]);
  await assert.rejects(
    sdk(gateway).messages.create({
      model: MODEL,
      max_tokens: 5,
      messages: [{ role: "user", content: "Hi" }],
    }),
    (error) => {
      assert.ok(error instanceof Anthropic.BadRequestError, String(error));
      assert.deepEqual(error.error, {
        type: "error",
        error: { type: "invalid_request_error", message: "context too long" },
      });
      return true;
    },
  );
});

Deno.test("auth on /v1/messages: x-api-key or Bearer; a refusal is an authentication_error", async () => {
  await using backend = startScriptedBackend(hello);
  await using gateway = await gatewayFor([backend], {
    extra: "auth:\n  enabled: true\n  keys: [{ id: a, key: sk-gateway }]\n",
  });
  const request = {
    model: MODEL,
    max_tokens: 5,
    messages: [{ role: "user" as const, content: "Hi" }],
  };
  // The SDK sends its key as x-api-key.
  const message = await sdk(gateway, "sk-gateway").messages.create(request);
  assert.deepEqual(message.content, [{ type: "text", text: "Hello" }]);
  const bearer = new Anthropic({
    baseURL: gateway.url,
    apiKey: null,
    authToken: "sk-gateway",
    maxRetries: 0,
  });
  assert.equal((await bearer.messages.create(request)).content.length, 1);
  assert.equal(backend.requests.length, 2);
  assert.equal(backend.requests[0]!.headers.get("x-api-key"), null, "the key stays at the gateway");
  await assert.rejects(sdk(gateway, "sk-wrong").messages.create(request), (error) => {
    assert.ok(error instanceof Anthropic.AuthenticationError, String(error));
    assert.equal(errorType(error.error), "authentication_error");
    return true;
  });
});

Deno.test("a rate limit on /v1/messages is a rate_limit_error with Retry-After", async () => {
  await using backend = startScriptedBackend(hello);
  await using gateway = await gatewayFor([backend], {
    model: "  rate-limit: { capacity: 1, rate: 0.001, scope: global }\n",
  });
  const body = { model: MODEL, max_tokens: 5, messages: [{ role: "user", content: "Hi" }] };
  assert.equal((await post(gateway, "/v1/messages", body)).status, 200);
  const limited = await post(gateway, "/v1/messages", body);
  assert.equal(limited.status, 429);
  assert.equal(limited.body.error.type, "rate_limit_error");
  assert.ok(limited.headers.get("retry-after"));
});

Deno.test("a failing instance is retried on another before the first byte", async () => {
  await using failing = startScriptedBackend(() =>
    Response.json({ error: { message: "overloaded" } }, { status: 503 })
  );
  await using healthy = startScriptedBackend(hello);
  await using gateway = await gatewayFor([failing, healthy], {
    model: "  load-balance: { type: round-robin }\n",
  });
  const client = sdk(gateway);
  for (let i = 0; i < 2; i++) {
    const message = await client.messages.create({
      model: MODEL,
      max_tokens: 5,
      messages: [{ role: "user", content: "Hi" }],
    });
    assert.deepEqual(message.content, [{ type: "text", text: "Hello" }]);
  }
  assert.ok(failing.requests.length >= 1, "the failing instance was tried");
  assert.equal(healthy.requests.length, 2);
});

Deno.test("a stream that begins with the backend's error is retried on another instance", async () => {
  await using failing = startScriptedBackend(() =>
    chatStreamAnswer([{ error: { message: "engine overloaded", code: 503 } }], { done: false })
  );
  await using healthy = startScriptedBackend(hello);
  await using gateway = await gatewayFor([failing, healthy], {
    model: "  load-balance: { type: round-robin }\n",
  });
  const client = sdk(gateway);
  for (let i = 0; i < 2; i++) {
    const message = await client.messages.stream({
      model: MODEL,
      max_tokens: 5,
      messages: [{ role: "user", content: "Hi" }],
    }).finalMessage();
    assert.deepEqual(message.content, [{ type: "text", text: "Hello" }]);
  }
  assert.equal(failing.requests.length, 1);
  assert.equal(healthy.requests.length, 2);
});

Deno.test("no instance reachable: an Anthropic error, not OpenAI's", async () => {
  await using gateway = await gatewayFor([closedPortUrl()]);
  const response = await post(gateway, "/v1/messages", {
    model: MODEL,
    max_tokens: 5,
    messages: [{ role: "user", content: "Hi" }],
  });
  assert.equal(response.status, 502);
  assert.equal(response.body.type, "error");
  assert.equal(response.body.error.type, "api_error");
});

Deno.test("a stream the backend breaks off midway ends with an Anthropic error event", async () => {
  const event = `data: ${JSON.stringify(chatChunk({ content: "Hel" }))}\n\n`;
  // One chunk of a chunked body, then the connection closes without the last chunk.
  await using backend = startScriptedServer(async (peer) => {
    await peer.readRequest();
    await peer.write(
      "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n" +
        `${new TextEncoder().encode(event).byteLength.toString(16)}\r\n${event}\r\n`,
    );
  });
  await using gateway = await gatewayFor([backend.url]);
  const stream = sdk(gateway).messages.stream({
    model: MODEL,
    max_tokens: 64,
    messages: [{ role: "user", content: "Hi" }],
  });
  const texts: string[] = [];
  stream.on("text", (text) => texts.push(text));
  await assert.rejects(stream.finalMessage(), (error) => {
    assert.ok(error instanceof Anthropic.APIError, String(error));
    assert.equal(errorType(error.error), "api_error");
    assert.match(String(error.message), /broke off the stream midway/);
    return true;
  });
  assert.deepEqual(texts, ["Hel"]);
});

Deno.test("a client that leaves a translated stream cancels the backend's request", async () => {
  await using backend = await startFakeBackend({
    stream: { tokens: ["a", "b", "c"], stallAfter: 1 },
  });
  await using gateway = await gatewayFor([backend.url]);
  const controller = new AbortController();
  const response = await fetch(`${gateway.url}/v1/messages`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      model: MODEL,
      max_tokens: 5,
      stream: true,
      messages: [{ role: "user", content: "Hi" }],
    }),
    signal: controller.signal,
  });
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), "text/event-stream");
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  while (!seen.includes("text_delta")) seen += (await reader.read()).value ?? "";
  assert.match(seen, /^event: message_start\n/);
  controller.abort();
  await reader.cancel().catch(() => {});
  await within(backend.requests[0]!.aborted, 2000, "the backend's request was aborted");
  const status = await (await fetch(`${gateway.url}/v1/messages/status`)).json();
  assert.equal(status.derivedFrom, "chat");
  assert.equal(status.instances[0].activeRequests, 0);
});

Deno.test("the OpenAPI document describes both Messages routes", async () => {
  await using gateway = await gatewayFor([closedPortUrl()]);
  const document = await (await fetch(`${gateway.url}/openapi.json`)).json();
  for (const path of ["/v1/messages", "/v1/messages/count_tokens"]) {
    const post = document.paths[path]?.post;
    assert.ok(post, `${path} is documented`);
    assert.ok(post.requestBody.content["application/json"].schema, `${path} has a body schema`);
    assert.ok(post.responses["429"], `${path} documents its rate limit error`);
  }
  assert.ok(document.components.schemas.MessagesRequest.properties.max_tokens);
  assert.equal(document.paths["/v1/messages"].post.tags[0], "Anthropic API");
});

Deno.test("a body over the size limit and a model the key may not use: Anthropic's 413 and 403", async () => {
  await using backend = startScriptedBackend(hello);
  await using gateway = await gatewayFor([backend], {
    extra: "server:\n  max-body-size: 200\nauth:\n  enabled: true\n  keys:\n" +
      "    - { id: a, key: sk-gateway, models: [other] }\n",
  });
  const headers = { "x-api-key": "sk-gateway" };
  const large = await post(gateway, "/v1/messages", {
    model: MODEL,
    max_tokens: 5,
    messages: [{ role: "user", content: "x".repeat(300) }],
  }, headers);
  assert.equal(large.status, 413);
  assert.equal(errorType(large.body), "request_too_large");
  const refused = await post(gateway, "/v1/messages", {
    model: MODEL,
    max_tokens: 5,
    messages: [{ role: "user", content: "Hi" }],
  }, headers);
  assert.equal(refused.status, 403);
  assert.equal(errorType(refused.body), "permission_error");
  assert.equal(backend.requests.length, 0);
});

Deno.test("a stream that begins with the backend's verdict on the request is passed on, not retried", async () => {
  await using backend = startScriptedBackend(() =>
    chatStreamAnswer([{ error: { message: "prompt too long", code: 400 } }], { done: false })
  );
  await using gateway = await gatewayFor([backend, backend]);
  const stream = sdk(gateway).messages.stream({
    model: MODEL,
    max_tokens: 5,
    messages: [{ role: "user", content: "Hi" }],
  });
  await assert.rejects(stream.finalMessage(), (error) => {
    assert.ok(error instanceof Anthropic.APIError, String(error));
    assert.equal(errorType(error.error), "invalid_request_error");
    assert.match(String(error.message), /prompt too long/);
    return true;
  });
  assert.equal(backend.requests.length, 1);
});

/**
 * `POST /v1/responses`: translated to chat for a backend that serves only chat, whole and
 * streamed, tools included; passed through byte for byte to one that serves the Responses API.
 * The `openai` SDK is used unmodified.
 */
import assert from "node:assert/strict";
import OpenAI from "openai";
import { deferred, within } from "./fixtures/gate.ts";
import { startGateway, type TestGateway } from "./fixtures/gateway.ts";
import {
  chatCompletion,
  chatStream,
  type ScriptedBackend,
  type ScriptedRequest,
  sse,
  startScriptedBackend,
} from "./fixtures/scripted_backend.ts";

const MODEL = "qwen3";

/** A gateway whose one chat instance is `backend`, on the given adapter. */
async function gatewayOver(
  backends: readonly ScriptedBackend[],
  adapter = "openai",
): Promise<{ gateway: TestGateway; client: OpenAI } & AsyncDisposable> {
  const gateway = await startGateway(`model:
  load-balance: { type: round-robin }
  services:
    chat:
      instances:
${
    backends.map((backend) =>
      `        - { name: ${MODEL}, base-url: "${backend.url}", adapter: ${adapter} }`
    ).join("\n")
  }
`);
  const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: "sk-test", maxRetries: 0 });
  return { gateway, client, [Symbol.asyncDispose]: () => gateway.close() };
}

function post(gateway: TestGateway, body: unknown): Promise<Response> {
  return fetch(`${gateway.url}/v1/responses`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

/** The `type`s of an SSE body's events, with their data. */
function eventsOf(text: string): { event: string; data: Record<string, unknown> }[] {
  return text.split("\n\n").filter((block) => block.trim() !== "").map((block) => {
    const event = /^event: (.*)$/m.exec(block)?.[1] ?? "";
    const data = JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? "null");
    return { event, data };
  });
}

function sentTo(backend: ScriptedBackend): ScriptedRequest {
  const request = backend.requests.at(-1);
  assert.ok(request, "the backend got a request");
  return request;
}

Deno.test("a chat-only backend answers responses.create, translated both ways", async () => {
  await using backend = startScriptedBackend(() => chatCompletion({ content: "Hello there" }));
  await using t = await gatewayOver([backend]);
  const response = await t.client.responses.create({
    model: MODEL,
    instructions: "Be brief",
    input: "Hi",
    max_output_tokens: 50,
    temperature: 0.2,
    top_p: 0.9,
    user: "u-1",
    metadata: { ticket: "42" },
  });
  const sent = sentTo(backend);
  assert.equal(sent.path, "/v1/chat/completions");
  assert.deepEqual(sent.json, {
    model: MODEL,
    messages: [{ role: "system", content: "Be brief" }, { role: "user", content: "Hi" }],
    max_tokens: 50,
    temperature: 0.2,
    top_p: 0.9,
    user: "u-1",
  });
  assert.match(response.id, /^resp_/);
  assert.equal(response.object, "response");
  assert.equal(response.status, "completed");
  assert.equal(response.output_text, "Hello there");
  assert.equal(response.output[0]?.type, "message");
  assert.deepEqual(response.metadata, { ticket: "42" });
  assert.equal(response.instructions, "Be brief");
  assert.deepEqual(
    [response.usage?.input_tokens, response.usage?.output_tokens, response.usage?.total_tokens],
    [11, 7, 18],
  );
});

Deno.test("a length cut is an incomplete response naming max_output_tokens", async () => {
  await using backend = startScriptedBackend(() =>
    chatCompletion({ content: "Hel", finish: "length" })
  );
  await using t = await gatewayOver([backend]);
  const response = await t.client.responses.create({ model: MODEL, input: "Hi" });
  assert.equal(response.status, "incomplete");
  assert.deepEqual(response.incomplete_details, { reason: "max_output_tokens" });
});

Deno.test("a streamed answer comes as Responses events, in order, numbered", async () => {
  await using backend = startScriptedBackend(() =>
    sse(chatStream([{ role: "assistant", content: "" }, { content: "Hel" }, { content: "lo" }]))
  );
  await using t = await gatewayOver([backend]);
  const answer = await post(t.gateway, { model: MODEL, input: "Hi", stream: true });
  assert.equal(answer.status, 200);
  assert.match(answer.headers.get("content-type") ?? "", /^text\/event-stream/);
  const events = eventsOf(await answer.text());
  assert.deepEqual(sentTo(backend).json.stream_options, { include_usage: true });
  assert.deepEqual(events.map(({ event }) => event), [
    "response.created",
    "response.in_progress",
    "response.output_item.added",
    "response.content_part.added",
    "response.output_text.delta",
    "response.output_text.delta",
    "response.output_text.done",
    "response.content_part.done",
    "response.output_item.done",
    "response.completed",
  ]);
  events.forEach(({ event, data }, index) => {
    assert.equal(data.type, event);
    assert.equal(data.sequence_number, index);
  });
  const deltas = events.filter(({ event }) => event === "response.output_text.delta");
  assert.deepEqual(deltas.map(({ data }) => data.delta), ["Hel", "lo"]);
  const completed = events.at(-1)!.data.response as OpenAI.Responses.Response;
  assert.equal(completed.status, "completed");
  assert.equal(completed.usage?.total_tokens, 18);
  assert.deepEqual(completed.output[0], {
    id: (events[2]!.data.item as { id: string }).id,
    type: "message",
    status: "completed",
    role: "assistant",
    content: [{ type: "output_text", text: "Hello", annotations: [], logprobs: [] }],
  });
});

Deno.test("the SDK's responses.stream reads a translated stream to its final response", async () => {
  await using backend = startScriptedBackend(() =>
    sse(chatStream([{ reasoning_content: "Think" }, { content: "Hel" }, { content: "lo" }]))
  );
  await using t = await gatewayOver([backend]);
  const stream = t.client.responses.stream({ model: MODEL, input: "Hi" });
  const deltas: string[] = [];
  stream.on("response.output_text.delta", (event) => deltas.push(event.delta));
  const final = await stream.finalResponse();
  assert.deepEqual(deltas, ["Hel", "lo"]);
  assert.equal(final.output_text, "Hello");
  assert.equal(final.output[0]?.type, "reasoning");
  assert.equal(final.usage?.output_tokens, 7);
});

const WEATHER_TOOL = {
  type: "function" as const,
  name: "get_weather",
  description: "Weather of a city",
  parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  strict: true,
};

Deno.test("function tools go to chat as tools, tool calls come back as function_call items", async () => {
  await using backend = startScriptedBackend(() =>
    chatCompletion({
      toolCalls: [{ id: "call_1", name: "get_weather", arguments: '{"city":"Oslo"}' }],
    })
  );
  await using t = await gatewayOver([backend]);
  const response = await t.client.responses.create({
    model: MODEL,
    input: "Weather in Oslo?",
    tools: [WEATHER_TOOL],
    tool_choice: { type: "function", name: "get_weather" },
    parallel_tool_calls: false,
  });
  const sent = sentTo(backend).json;
  assert.deepEqual(sent.tools, [{
    type: "function",
    function: {
      name: "get_weather",
      description: "Weather of a city",
      parameters: WEATHER_TOOL.parameters,
      strict: true,
    },
  }]);
  assert.deepEqual(sent.tool_choice, { type: "function", function: { name: "get_weather" } });
  assert.equal(sent.parallel_tool_calls, false);
  const calls = response.output.filter((item) => item.type === "function_call");
  assert.equal(calls.length, 1);
  assert.equal(calls[0]?.call_id, "call_1");
  assert.equal(calls[0]?.name, "get_weather");
  assert.equal(calls[0]?.arguments, '{"city":"Oslo"}');
  assert.equal(response.output.some((item) => item.type === "message"), false);
});

Deno.test("streamed tool calls come as function_call_arguments events", async () => {
  await using backend = startScriptedBackend(() =>
    sse(chatStream([
      {
        role: "assistant",
        tool_calls: [{
          index: 0,
          id: "call_1",
          type: "function",
          function: { name: "get_weather", arguments: "" },
        }],
      },
      { tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] },
      { tool_calls: [{ index: 0, function: { arguments: '"Oslo"}' } }] },
    ], { finish: "tool_calls" }))
  );
  await using t = await gatewayOver([backend]);
  const stream = await t.client.responses.create({
    model: MODEL,
    input: "Weather in Oslo?",
    tools: [WEATHER_TOOL],
    stream: true,
  });
  const types: string[] = [];
  const argumentDeltas: string[] = [];
  let done: OpenAI.Responses.ResponseFunctionCallArgumentsDoneEvent | undefined;
  let final: OpenAI.Responses.Response | undefined;
  for await (const event of stream) {
    types.push(event.type);
    if (event.type === "response.function_call_arguments.delta") argumentDeltas.push(event.delta);
    if (event.type === "response.function_call_arguments.done") done = event;
    if (event.type === "response.completed") final = event.response;
  }
  assert.deepEqual(argumentDeltas, ['{"city":', '"Oslo"}']);
  assert.equal(done?.arguments, '{"city":"Oslo"}');
  assert.ok(types.includes("response.output_item.added"));
  const call = final?.output[0];
  assert.equal(call?.type, "function_call");
  assert.equal(call?.type === "function_call" ? call.call_id : undefined, "call_1");
});

Deno.test("a function call and its output go back to chat as tool_calls and a tool message", async () => {
  await using backend = startScriptedBackend(() => chatCompletion({ content: "It is sunny" }));
  await using t = await gatewayOver([backend]);
  const response = await t.client.responses.create({
    model: MODEL,
    tools: [WEATHER_TOOL],
    input: [
      { role: "user", content: "Weather in Oslo?" },
      { type: "reasoning", id: "rs_1", summary: [] },
      {
        type: "function_call",
        call_id: "call_1",
        name: "get_weather",
        arguments: '{"city":"Oslo"}',
      },
      { type: "function_call_output", call_id: "call_1", output: '{"sky":"clear"}' },
    ],
  });
  assert.equal(response.output_text, "It is sunny");
  assert.deepEqual(sentTo(backend).json.messages, [
    { role: "user", content: "Weather in Oslo?" },
    {
      role: "assistant",
      content: null,
      tool_calls: [{
        id: "call_1",
        type: "function",
        function: { name: "get_weather", arguments: '{"city":"Oslo"}' },
      }],
    },
    { role: "tool", tool_call_id: "call_1", content: '{"sky":"clear"}' },
  ]);
});

Deno.test("text.format json_schema becomes chat's response_format", async () => {
  await using backend = startScriptedBackend(() => chatCompletion({ content: '{"a":1}' }));
  await using t = await gatewayOver([backend]);
  const schema = { type: "object", properties: { a: { type: "number" } } };
  await t.client.responses.create({
    model: MODEL,
    input: "Give JSON",
    text: { format: { type: "json_schema", name: "thing", schema, strict: true } },
  });
  assert.deepEqual(sentTo(backend).json.response_format, {
    type: "json_schema",
    json_schema: { name: "thing", schema, strict: true },
  });
});

Deno.test("what needs stored state or OpenAI's own tools is a 400 naming the field", async () => {
  await using backend = startScriptedBackend(() => chatCompletion({ content: "never" }));
  await using t = await gatewayOver([backend]);
  const cases: [Record<string, unknown>, string][] = [
    [{ previous_response_id: "resp_1" }, "previous_response_id"],
    [{ store: true }, "store"],
    [{ background: true }, "background"],
    [{ tools: [{ type: "web_search" }] }, "tools[0].type"],
    [
      { input: [{ role: "user", content: [{ type: "input_file", file_id: "file-1" }] }] },
      "input[0].content[0].file_id",
    ],
    [{ input: [{ type: "item_reference", id: "msg_1" }] }, "input[0].type"],
    [{ prompt: { id: "pmpt_1" } }, "prompt"],
  ];
  for (const [fields, param] of cases) {
    const answer = await post(t.gateway, { model: MODEL, input: "Hi", ...fields });
    assert.equal(answer.status, 400, param);
    const { error } = await answer.json();
    assert.equal(error.param, param);
    assert.equal(error.type, "invalid_request_error");
    assert.equal(typeof error.code, "string");
    assert.match(error.message, new RegExp(param.replace(/[[\].]/g, "\\$&")));
  }
  const named = await post(t.gateway, {
    model: MODEL,
    input: "Hi",
    tools: [{ type: "web_search" }],
  });
  assert.match((await named.json()).error.message, /web_search/);
  assert.equal(backend.requests.length, 0);
  // `store: false`, as stateless clients send it, is served.
  assert.equal((await post(t.gateway, { model: MODEL, input: "Hi", store: false })).status, 200);
});

Deno.test("a chat backend's error passes through in OpenAI's shape", async () => {
  await using backend = startScriptedBackend(() =>
    Response.json({
      error: {
        message: "context too long",
        type: "invalid_request_error",
        param: null,
        code: null,
      },
    }, { status: 400 })
  );
  await using t = await gatewayOver([backend]);
  await assert.rejects(
    t.client.responses.create({ model: MODEL, input: "Hi" }),
    (error: unknown) => {
      assert.ok(error instanceof OpenAI.BadRequestError);
      assert.match(error.message, /context too long/);
      return true;
    },
  );
});

Deno.test("a backend that fails before the first byte is left for the next, streaming or not", async () => {
  await using broken = startScriptedBackend(() =>
    Response.json({ error: { message: "overloaded", type: "server_error" } }, { status: 503 })
  );
  await using dying = startScriptedBackend(() =>
    sse('data: {"error":{"message":"engine died","type":"server_error"}}\n\n')
  );
  await using healthy = startScriptedBackend((request) =>
    request.json.stream ? sse(chatStream([{ content: "ok" }])) : chatCompletion({ content: "ok" })
  );
  await using t = await gatewayOver([broken, dying, healthy]);
  for (let i = 0; i < 3; i++) {
    const response = await t.client.responses.create({ model: MODEL, input: "Hi" });
    assert.equal(response.output_text, "ok");
    const stream = t.client.responses.stream({ model: MODEL, input: "Hi" });
    assert.equal((await stream.finalResponse()).output_text, "ok");
  }
  assert.ok(broken.requests.length > 0 && dying.requests.length > 0);
});

Deno.test("a stream the backend breaks off ends with an error and response.failed", async () => {
  await using backend = startScriptedBackend(() =>
    sse(chatStream([{ content: "Hel" }], { finish: null, done: false }))
  );
  await using t = await gatewayOver([backend]);
  const answer = await post(t.gateway, { model: MODEL, input: "Hi", stream: true });
  const events = eventsOf(await answer.text());
  assert.deepEqual(events.slice(-2).map(({ event }) => event), ["error", "response.failed"]);
  const error = events.at(-2)!.data;
  assert.equal(error.code, "upstream_broken_stream");
  const failed = events.at(-1)!.data.response as OpenAI.Responses.Response;
  assert.equal(failed.status, "failed");
  assert.equal(failed.error?.code, "server_error");
  events.forEach(({ data }, index) => assert.equal(data.sequence_number, index));

  const stream = t.client.responses.stream({ model: MODEL, input: "Hi" });
  await assert.rejects(stream.finalResponse(), /broke off/);
});

Deno.test("a client that leaves a translated stream cancels the backend's", async () => {
  const cancelled = deferred();
  await using backend = startScriptedBackend(() =>
    sse(
      new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode(chatStream([{ content: "Hel" }], {
            finish: null,
            done: false,
          })));
        },
        cancel: () => cancelled.resolve(),
      }),
    )
  );
  await using t = await gatewayOver([backend]);
  const answer = await post(t.gateway, { model: MODEL, input: "Hi", stream: true });
  const reader = answer.body!.getReader();
  const first = new TextDecoder().decode((await reader.read()).value);
  assert.match(first, /^event: response\.created/);
  await reader.cancel();
  await within(cancelled.promise, 2000, "the backend's stream was cancelled");
});

Deno.test("a backend that serves the Responses API gets the bytes and answers unchanged", async () => {
  const answerJson = '{"id":"resp_native","object":"response","status":"completed","output":[]}';
  const answerStream = 'event: response.created\ndata: {"type":"response.created"}\n\n';
  await using backend = startScriptedBackend((request) =>
    request.json.stream
      ? sse(answerStream)
      : new Response(answerJson, { headers: { "content-type": "application/json" } })
  );
  await using t = await gatewayOver([backend], "vllm");
  const body =
    '{"model":"qwen3", "input":[{"role":"user","content":"Hi"}],"store":true,"previous_response_id":"resp_0"}';
  const whole = await fetch(`${t.gateway.url}/v1/responses`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
  });
  assert.equal(await whole.text(), answerJson);
  assert.equal(sentTo(backend).path, "/v1/responses");
  assert.equal(new TextDecoder().decode(sentTo(backend).bytes), body);

  const streamed = await post(t.gateway, { model: MODEL, input: "Hi", stream: true });
  assert.equal(await streamed.text(), answerStream);
});

/** A backend that keeps the one response `id`, of `model`, as vLLM with its store on does. */
function keeping(id: string, model = MODEL): ScriptedBackend {
  return startScriptedBackend((request) => {
    const base = `/v1/responses/${id}`;
    if (request.method === "GET" && request.path === base) {
      return Response.json({ id, object: "response", model, status: "completed", output: [] });
    }
    if (request.method === "GET" && request.path.startsWith(`${base}/input_items`)) {
      return Response.json({ object: "list", data: [{ type: "message", id: "msg_in" }] });
    }
    if (request.method === "DELETE" && request.path === base) {
      return Response.json({ id, object: "response", deleted: true });
    }
    return Response.json({ error: { message: "not found", type: "invalid_request_error" } }, {
      status: 404,
    });
  });
}

Deno.test("a stored response is asked of each backend serving the Responses API, found where kept", async () => {
  await using other = keeping("resp_other");
  await using holder = keeping("resp_kept");
  await using t = await gatewayOver([other, holder], "vllm");
  const retrieved = await t.client.responses.retrieve("resp_kept");
  assert.equal(retrieved.id, "resp_kept");
  assert.equal(retrieved.status, "completed");
  const items = await fetch(`${t.gateway.url}/v1/responses/resp_kept/input_items?limit=1`);
  assert.equal(items.status, 200);
  assert.equal((await items.json()).data[0].id, "msg_in");
  assert.equal(holder.requests.at(-1)?.path, "/v1/responses/resp_kept/input_items?limit=1");
  const deleted = await fetch(`${t.gateway.url}/v1/responses/resp_kept`, { method: "DELETE" });
  assert.deepEqual(await deleted.json(), { id: "resp_kept", object: "response", deleted: true });
  assert.equal(holder.requests.at(-1)?.method, "DELETE");
  assert.ok(other.requests.every((request) => request.method === "GET"), "only asked");

  const missing = await fetch(`${t.gateway.url}/v1/responses/resp_none`);
  assert.equal(missing.status, 404);
  const { error } = await missing.json();
  assert.equal(error.code, "response_not_found");
  assert.match(error.message, /"resp_none"/);
  // The status of the service is not taken for a response id.
  const status = await fetch(`${t.gateway.url}/v1/responses/status`);
  assert.equal((await status.json()).service, "responses");
});

Deno.test("a translated response is never kept: asking for it is a 404 that says so", async () => {
  await using backend = startScriptedBackend(() => chatCompletion({ content: "Hi" }));
  await using t = await gatewayOver([backend]);
  const response = await t.client.responses.create({ model: MODEL, input: "Hi" });
  const retrieved = await fetch(`${t.gateway.url}/v1/responses/${response.id}`);
  assert.equal(retrieved.status, 404);
  assert.match((await retrieved.json()).error.message, /translated from chat completions/);
  const deleted = await fetch(`${t.gateway.url}/v1/responses/${response.id}`, {
    method: "DELETE",
  });
  assert.equal(deleted.status, 404);
  await deleted.body?.cancel();
  assert.equal(backend.requests.length, 1, "only the creation reached the backend");
});

Deno.test("a stored response of a model the key may not use is not found", async () => {
  await using holder = keeping("resp_kept", "secret-model");
  const key = "sk-test-alpha-0123456789abcdefghijklmnop";
  await using gateway = await startGateway(`
auth:
  enabled: true
  keys: [{ id: limited, key: ${key}, models: ["${MODEL}"] }]
model:
  services:
    chat:
      instances: [{ name: ${MODEL}, base-url: "${holder.url}", adapter: vllm }]
`);
  const ask = (method: string) =>
    fetch(`${gateway.url}/v1/responses/resp_kept`, {
      method,
      headers: { authorization: `Bearer ${key}` },
    });
  for (const method of ["GET", "DELETE"]) {
    const answer = await ask(method);
    assert.equal(answer.status, 404, method);
    assert.equal((await answer.json()).error.code, "response_not_found");
  }
  assert.ok(holder.requests.every((request) => request.method === "GET"), "nothing deleted");
  const anonymous = await fetch(`${gateway.url}/v1/responses/resp_kept`);
  await anonymous.body?.cancel();
  assert.equal(anonymous.status, 401);
});

Deno.test("a keeping backend that breaks off its answer to a delete is a 502", async () => {
  await using holder = startScriptedBackend((request) => {
    if (request.method === "GET") {
      return Response.json({ id: "resp_kept", object: "response", model: MODEL, output: [] });
    }
    return new Response(
      new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('{"id":'));
          controller.error(new Error("the backend fell over"));
        },
      }),
      { headers: { "content-type": "application/json" } },
    );
  });
  await using t = await gatewayOver([holder], "vllm");
  const deleted = await fetch(`${t.gateway.url}/v1/responses/resp_kept`, { method: "DELETE" });
  assert.equal(deleted.status, 502);
  const { error } = await deleted.json();
  assert.equal(error.code, "upstream_error");
  assert.match(error.message, /"resp_kept"/);
});

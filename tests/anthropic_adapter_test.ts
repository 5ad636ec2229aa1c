/**
 * An `anthropic` instance answers OpenAI SDK clients as any OpenAI backend would: the gateway
 * speaks Anthropic's Messages API to it (path, key and version headers) and translates both
 * ways, streaming and tools included; its model list and health probe work too.
 */
import assert from "node:assert/strict";
import OpenAI from "openai";
import { parseConfig } from "../src/config/load.ts";
import {
  type AnthropicBackend,
  type AnthropicOptions,
  startAnthropic,
} from "./fixtures/anthropic_backend.ts";
import { eventually, Gate, within } from "./fixtures/gate.ts";
import { startGateway, type TestGateway } from "./fixtures/gateway.ts";
import { postChat } from "./fixtures/requests.ts";

const MODEL = "claude-test-1";
const KEY = "sk-ant-test";

interface Setup extends AsyncDisposable {
  readonly anthropic: AnthropicBackend;
  readonly gateway: TestGateway;
  readonly client: OpenAI;
}

/** An emulated Anthropic API behind a gateway, with `instance` added to its instance's keys. */
async function anthropicBehind(
  options: AnthropicOptions = {},
  { instance = "", model = "" }: { instance?: string; model?: string } = {},
): Promise<Setup> {
  const anthropic = await startAnthropic(options);
  const gateway = await startGateway(`server:
  retries: 0
model:
${model}  services:
    chat:
      instances:
        - { name: ${MODEL}, base-url: "${anthropic.url}", adapter: anthropic, api-key: ${KEY}${instance} }
`);
  const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: "sk-test", maxRetries: 0 });
  return {
    anthropic,
    gateway,
    client,
    async [Symbol.asyncDispose]() {
      await gateway.close();
      await anthropic.close();
    },
  };
}

function lastBody(anthropic: AnthropicBackend): Record<string, unknown> {
  const body = anthropic.messages.at(-1)?.body;
  assert.ok(body, "a Messages request reached the backend");
  return body;
}

const WEATHER_TOOL: OpenAI.ChatCompletionTool = {
  type: "function",
  function: {
    name: "weather",
    description: "The weather in a city",
    parameters: { type: "object", properties: { city: { type: "string" } } },
  },
};

Deno.test("a chat completion goes to /v1/messages with x-api-key and anthropic-version", async () => {
  await using t = await anthropicBehind();
  const completion = await t.client.chat.completions.create({
    model: MODEL,
    messages: [
      { role: "system", content: "Be brief." },
      { role: "user", content: "Hi" },
    ],
    temperature: 0.5,
    stop: ["END"],
    user: "user-7",
  });
  const request = t.anthropic.messages.at(-1);
  assert.ok(request);
  assert.equal(request.headers.get("x-api-key"), KEY);
  assert.equal(request.headers.get("anthropic-version"), "2023-06-01");
  assert.equal(request.headers.get("authorization"), null, "the client's key stays home");
  assert.deepEqual(request.body, {
    model: MODEL,
    messages: [{ role: "user", content: [{ type: "text", text: "Hi" }] }],
    temperature: 0.5,
    stop_sequences: ["END"],
    metadata: { user_id: "user-7" },
    max_tokens: 4096,
    system: [{ type: "text", text: "Be brief." }],
  });
  assert.equal(completion.object, "chat.completion");
  assert.match(completion.id, /^chatcmpl-/);
  assert.equal(completion.model, MODEL);
  assert.equal(completion.choices[0]?.message.content, "Hello from Claude");
  assert.equal(completion.choices[0]?.finish_reason, "stop");
  assert.equal(completion.usage?.completion_tokens, 3);
  assert.equal(
    completion.usage?.total_tokens,
    (completion.usage?.prompt_tokens ?? 0) + 3,
  );
});

Deno.test("an instance's headers replace anthropic-version; claude names the same adapter", async () => {
  await using anthropic = await startAnthropic();
  await using gateway = await startGateway(`model:
  services:
    chat:
      instances:
        - name: ${MODEL}
          base-url: "${anthropic.url}"
          adapter: claude
          api-key: ${KEY}
          headers: { anthropic-version: "2099-01-01", anthropic-beta: "some-beta" }
`);
  const response = await postChat(gateway.url, { model: MODEL, max_tokens: 20 });
  assert.equal(response.status, 200);
  await response.body?.cancel();
  const request = anthropic.messages.at(-1);
  assert.equal(request?.headers.get("anthropic-version"), "2099-01-01");
  assert.equal(request?.headers.get("anthropic-beta"), "some-beta");
  assert.equal(request?.body?.max_tokens, 20);
});

Deno.test("a stream reaches the SDK as chat chunks, usage last, ending with [DONE]", async () => {
  await using t = await anthropicBehind();
  const stream = await t.client.chat.completions.create({
    model: MODEL,
    messages: [{ role: "user", content: "Hi" }],
    stream: true,
    stream_options: { include_usage: true },
  });
  const pieces: string[] = [];
  let role: string | undefined;
  let finish: string | null | undefined;
  let usage: OpenAI.CompletionUsage | null | undefined;
  for await (const chunk of stream) {
    role ??= chunk.choices[0]?.delta.role;
    pieces.push(chunk.choices[0]?.delta.content ?? "");
    finish ??= chunk.choices[0]?.finish_reason;
    if (chunk.usage) usage = chunk.usage;
  }
  assert.equal(role, "assistant");
  assert.equal(pieces.join(""), "Hello from Claude");
  assert.equal(finish, "stop");
  assert.equal(usage?.completion_tokens, 3);
  assert.equal(lastBody(t.anthropic).stream, true);

  const raw = await postChat(t.gateway.url, { model: MODEL, stream: true });
  assert.equal(raw.headers.get("content-type"), "text/event-stream");
  const text = await raw.text();
  assert.ok(text.startsWith('data: {"id":"chatcmpl-'), text.slice(0, 40));
  assert.ok(text.endsWith("data: [DONE]\n\n"));
  assert.doesNotMatch(text, /ping|message_start/);
});

Deno.test("tools go as Messages tools, and the tool call comes back as OpenAI's", async () => {
  await using t = await anthropicBehind({
    pieces: [],
    toolUse: { name: "weather", input: { city: "Oslo" } },
  });
  const completion = await t.client.chat.completions.create({
    model: MODEL,
    messages: [{ role: "user", content: "Weather in Oslo?" }],
    tools: [WEATHER_TOOL],
    tool_choice: "required",
  });
  const sent = lastBody(t.anthropic);
  assert.deepEqual(sent.tools, [{
    name: "weather",
    description: "The weather in a city",
    input_schema: { type: "object", properties: { city: { type: "string" } } },
  }]);
  assert.deepEqual(sent.tool_choice, { type: "any" });
  const choice = completion.choices[0];
  assert.equal(choice?.finish_reason, "tool_calls");
  assert.equal(choice?.message.content, null);
  const call = choice?.message.tool_calls?.[0];
  assert.ok(call && call.type === "function");
  assert.match(call.id, /^toolu_/);
  assert.equal(call.function.name, "weather");
  assert.deepEqual(JSON.parse(call.function.arguments), { city: "Oslo" });

  // The call and its result go back as tool_use and tool_result, which the backend checks.
  t.anthropic.behaviour.toolUse = undefined;
  t.anthropic.behaviour.pieces = ["Sunny."];
  const followUp = await t.client.chat.completions.create({
    model: MODEL,
    messages: [
      { role: "user", content: "Weather in Oslo?" },
      choice!.message,
      { role: "tool", tool_call_id: call.id, content: "sunny, 20 °C" },
    ],
    tools: [WEATHER_TOOL],
  });
  assert.equal(followUp.choices[0]?.message.content, "Sunny.");
  assert.deepEqual(lastBody(t.anthropic).messages, [
    { role: "user", content: [{ type: "text", text: "Weather in Oslo?" }] },
    {
      role: "assistant",
      content: [{ type: "tool_use", id: call.id, name: "weather", input: { city: "Oslo" } }],
    },
    {
      role: "user",
      content: [{ type: "tool_result", tool_use_id: call.id, content: "sunny, 20 °C" }],
    },
  ]);
});

Deno.test("a streamed tool call reaches the SDK's stream helper whole", async () => {
  await using t = await anthropicBehind({
    pieces: ["Let me check."],
    toolUse: { name: "weather", input: { city: "Rome" } },
  });
  const runner = t.client.chat.completions.stream({
    model: MODEL,
    messages: [{ role: "user", content: "Weather in Rome?" }],
    tools: [WEATHER_TOOL],
  });
  const final = await runner.finalChatCompletion();
  const choice = final.choices[0];
  assert.equal(choice?.finish_reason, "tool_calls");
  assert.equal(choice?.message.content, "Let me check.");
  const call = choice?.message.tool_calls?.[0];
  assert.ok(call && call.type === "function");
  assert.equal(call.function.name, "weather");
  assert.deepEqual(JSON.parse(call.function.arguments), { city: "Rome" });
});

Deno.test("a field Messages has no place for is refused, naming it, before any request", async () => {
  await using t = await anthropicBehind();
  for (
    const [fields, param] of [
      [{ n: 2 }, "n"],
      [{ logprobs: true }, "logprobs"],
      [
        { response_format: { type: "json_schema", json_schema: { name: "x", schema: {} } } },
        "response_format.type",
      ],
    ] as const
  ) {
    const response = await postChat(t.gateway.url, { model: MODEL, ...fields });
    assert.equal(response.status, 400);
    const { error } = await response.json();
    assert.equal(error.code, "unsupported_parameter");
    assert.equal(error.param, param);
    assert.match(error.message, /Anthropic's Messages API/);
  }
  assert.equal(t.anthropic.messages.length, 0, "nothing reached the backend");
});

Deno.test("Anthropic's errors come back in OpenAI's shape", async () => {
  await using t = await anthropicBehind();
  t.anthropic.behaviour.failure = {
    status: 400,
    type: "invalid_request_error",
    message: "max_tokens: 100000 > 64000, which is the maximum",
  };
  const refused = await postChat(t.gateway.url, { model: MODEL, max_tokens: 100000 });
  assert.equal(refused.status, 400);
  assert.deepEqual((await refused.json()).error, {
    message: "max_tokens: 100000 > 64000, which is the maximum",
    type: "invalid_request_error",
    param: null,
    code: "invalid_request_error",
  });

  t.anthropic.behaviour.failure = {
    status: 429,
    type: "rate_limit_error",
    message: "Slow down",
    retryAfter: "7",
  };
  const limited = await postChat(t.gateway.url, { model: MODEL });
  assert.equal(limited.status, 429);
  assert.equal(limited.headers.get("retry-after"), "7");
  assert.equal((await limited.json()).error.code, "rate_limit_error");
});

Deno.test("a wrong key is a 401 in OpenAI's shape", async () => {
  await using t = await anthropicBehind({ apiKey: "sk-ant-other" });
  const response = await postChat(t.gateway.url, { model: MODEL });
  assert.equal(response.status, 401);
  const { error } = await response.json();
  assert.equal(error.code, "authentication_error");
  assert.equal(error.message, "invalid x-api-key");
});

Deno.test("529 overloaded is a 503, retried on another instance", async () => {
  await using busy = await startAnthropic({
    failure: { status: 529, type: "overloaded_error", message: "Overloaded" },
  });
  await using spare = await startAnthropic({ pieces: ["From the spare"] });
  const pool = (retries: number) =>
    `server:
  retries: ${retries}
model:
  services:
    chat:
      load-balance: { type: round-robin }
      instances:
        - { name: ${MODEL}, base-url: "${busy.url}", adapter: anthropic, api-key: ${KEY} }
        - { name: ${MODEL}, base-url: "${spare.url}", adapter: anthropic, api-key: ${KEY} }
`;
  {
    await using gateway = await startGateway(pool(0));
    const statuses = new Set<number>();
    for (let i = 0; i < 2; i++) {
      const response = await postChat(gateway.url, { model: MODEL });
      statuses.add(response.status);
      if (response.status === 503) {
        const { error } = await response.json();
        assert.equal(error.code, "overloaded_error");
        assert.equal(error.type, "upstream_error");
      } else {
        await response.body?.cancel();
      }
    }
    assert.deepEqual([...statuses].sort(), [200, 503]);
  }
  await using gateway = await startGateway(pool(1));
  for (let i = 0; i < 2; i++) {
    const response = await postChat(gateway.url, { model: MODEL });
    assert.equal(response.status, 200);
    assert.equal((await response.json()).choices[0].message.content, "From the spare");
  }
});

Deno.test("an error event after content ends the stream with the gateway's error event", async () => {
  await using t = await anthropicBehind({
    streamError: { type: "overloaded_error", message: "Overloaded", afterPieces: 1 },
  });
  const response = await postChat(t.gateway.url, { model: MODEL, stream: true });
  assert.equal(response.status, 200);
  const events = (await response.text()).split("\n\n").filter(Boolean);
  const last = JSON.parse(events.at(-1)!.slice("data: ".length));
  assert.deepEqual(last.error, {
    message: "Overloaded",
    type: "upstream_error",
    param: null,
    code: "overloaded_error",
  });
  assert.ok(events.some((event) => event.includes('"content":"Hello"')));
  assert.ok(!events.includes("data: [DONE]"));
});

Deno.test("an error event before any content is retried on another instance", async () => {
  await using failing = await startAnthropic({
    streamError: { type: "overloaded_error", message: "Overloaded", afterPieces: 0 },
  });
  await using spare = await startAnthropic({ pieces: ["From the spare"] });
  await using gateway = await startGateway(`server:
  retries: 1
model:
  services:
    chat:
      load-balance: { type: round-robin }
      instances:
        - { name: ${MODEL}, base-url: "${failing.url}", adapter: anthropic, api-key: ${KEY} }
        - { name: ${MODEL}, base-url: "${spare.url}", adapter: anthropic, api-key: ${KEY} }
`);
  for (let i = 0; i < 2; i++) {
    const response = await postChat(gateway.url, { model: MODEL, stream: true });
    assert.equal(response.status, 200);
    const text = await response.text();
    assert.match(text, /"content":"From the spare"/);
    assert.ok(text.endsWith("data: [DONE]\n\n"));
  }
  assert.ok(failing.messages.length >= 1, "the failing instance was tried");
});

Deno.test("a client that leaves mid-stream cancels the backend's stream", async () => {
  const hold = new Gate();
  await using t = await anthropicBehind({ holdStream: hold.wait() });
  try {
    const controller = new AbortController();
    const response = await postChat(t.gateway.url, { model: MODEL, stream: true }, {
      signal: controller.signal,
    });
    const reader = response.body!.getReader();
    let text = "";
    while (!text.includes('"content":"Hello"')) {
      const { value } = await reader.read();
      text += new TextDecoder().decode(value);
    }
    controller.abort();
    await within(t.anthropic.streamCancelled, 2_000, "the backend's stream was cancelled");
  } finally {
    hold.open();
  }
});

Deno.test("discovery lists the models of GET /v1/models and routes them", async () => {
  await using anthropic = await startAnthropic({ models: ["claude-a", "claude-b"] });
  await using gateway = await startGateway(`model:
  discovery: { interval: 100 }
  services:
    chat:
      instances:
        - { name: "claude-*", base-url: "${anthropic.url}", adapter: anthropic, api-key: ${KEY}, discover: true }
`);
  const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: "sk-test", maxRetries: 0 });
  await eventually(async () => {
    const ids = (await client.models.list()).data.map((model) => model.id);
    assert.deepEqual(ids, ["claude-a", "claude-b"]);
  }, 2_000);
  const listing = anthropic.requests.find((request) => request.path.startsWith("/v1/models"));
  assert.equal(listing?.path, "/v1/models?limit=1000");
  assert.equal(listing?.headers.get("x-api-key"), KEY);
  assert.equal(listing?.headers.get("anthropic-version"), "2023-06-01");
  const answer = await client.chat.completions.create({
    model: "claude-b",
    messages: [{ role: "user", content: "Hi" }],
  });
  assert.equal(answer.choices[0]?.message.content, "Hello from Claude");
});

Deno.test("the health probe reads /v1/models: up with the right key, down with a refused one", async () => {
  await using good = await startAnthropic();
  await using refused = await startAnthropic({ apiKey: "sk-ant-other" });
  await using gateway = await startGateway(`server:
  retries: 0
model:
  health-check: { interval: 100, timeout: 500 }
  services:
    chat:
      instances:
        - { name: ${MODEL}, base-url: "${good.url}", adapter: anthropic, api-key: ${KEY} }
        - { name: ${MODEL}, base-url: "${refused.url}", adapter: anthropic, api-key: ${KEY} }
`);
  const health = async () => {
    const status = await (await fetch(`${gateway.url}/v1/chat/status`)).json();
    return status.instances.map((instance: { health: { status: string; reason: string } }) =>
      instance.health
    );
  };
  await eventually(async () => {
    const [up, down] = await health();
    assert.equal(up.status, "up");
    assert.equal(down.status, "down");
    assert.match(down.reason, /GET \/v1\/models answered 401/);
  }, 2_000);
  assert.ok(good.requests.some((request) => request.path === "/v1/models"));
  assert.equal(good.messages.length, 0, "probing spent no tokens");
  for (let i = 0; i < 3; i++) {
    const response = await postChat(gateway.url, { model: MODEL });
    assert.equal(response.status, 200);
    await response.body?.cancel();
  }
  assert.equal(refused.messages.length, 0, "nothing went to the instance marked down");
});

Deno.test("the Anthropic example config is valid", async () => {
  const text = await Deno.readTextFile(
    new URL("../config/examples/anthropic.yaml", import.meta.url),
  );
  const { config } = parseConfig(text, { source: "anthropic.yaml" });
  assert.equal(config.model.services.chat?.instances[0]?.adapter, "anthropic");
});

Deno.test("a Messages client reaches an anthropic instance as it is, with its key and version", async () => {
  await using t = await anthropicBehind();
  const sent = JSON.stringify({
    model: MODEL,
    max_tokens: 64,
    top_k: 3,
    messages: [{ role: "user", content: "Hi" }],
  });
  const response = await fetch(`${t.gateway.url}/v1/messages`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-api-key": "client-key" },
    body: sent,
  });
  assert.equal(response.status, 200);
  const message = await response.json();
  assert.equal(message.type, "message", "Anthropic's answer, not a chat completion");
  assert.equal(message.content[0].text, "Hello from Claude");
  const request = t.anthropic.messages.at(-1);
  assert.ok(request);
  assert.equal(request.path, "/v1/messages");
  assert.equal(request.headers.get("x-api-key"), KEY, "the instance's key, not the client's");
  assert.equal(request.headers.get("anthropic-version"), "2023-06-01");
  assert.deepEqual(request.body, JSON.parse(sent), "the body untranslated");
});

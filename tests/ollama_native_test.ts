/**
 * An Ollama instance configured on its native API (`/api/chat`, `/api/generate`, `/api/embed`)
 * answers OpenAI SDK clients as any OpenAI backend would: the gateway translates both ways.
 */
import assert from "node:assert/strict";
import OpenAI from "openai";
import { type OllamaBackend, startOllama } from "./fixtures/backends/mod.ts";
import { startGateway, type TestGateway } from "./fixtures/gateway.ts";
import { postChat } from "./fixtures/requests.ts";

const MODEL = "llama3.2";

async function ollamaBehind(
  options: Parameters<typeof startOllama>[0] = {},
): Promise<{ ollama: OllamaBackend; gateway: TestGateway; client: OpenAI } & AsyncDisposable> {
  const ollama = await startOllama({ name: "native", models: ["llama3.2:latest"], ...options });
  const gateway = await startGateway(`model:
  services:
    chat:
      instances:
        - { name: ${MODEL}, base-url: "${ollama.url}", adapter: ollama, path: /api/chat }
    embedding:
      instances:
        - { name: ${MODEL}, base-url: "${ollama.url}", adapter: ollama, path: /api/embed }
`);
  const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: "sk-test", maxRetries: 0 });
  return {
    ollama,
    gateway,
    client,
    async [Symbol.asyncDispose]() {
      await gateway.close();
      await ollama.close();
    },
  };
}

/** A chat request for this file's model, with `fields` added. */
function postNativeChat(gateway: TestGateway, fields: Record<string, unknown> = {}) {
  return postChat(gateway.url, { model: MODEL, ...fields });
}

function lastBody(ollama: OllamaBackend): Record<string, unknown> {
  const request = ollama.requests.at(-1);
  assert.ok(request);
  return JSON.parse(new TextDecoder().decode(request.body));
}

Deno.test("a chat completion through /api/chat comes back in OpenAI's shape", async () => {
  await using t = await ollamaBehind();
  const completion = await t.client.chat.completions.create({
    model: MODEL,
    messages: [{ role: "user", content: "Hi" }],
    max_tokens: 50,
    temperature: 0.2,
  });
  assert.equal(t.ollama.requests.at(-1)?.path, "/api/chat");
  const sent = lastBody(t.ollama);
  assert.equal(sent.stream, false, "Ollama streams unless told not to");
  assert.deepEqual(sent.options, { num_predict: 50, temperature: 0.2 });
  assert.equal(completion.object, "chat.completion");
  assert.match(completion.id, /^chatcmpl-/);
  assert.equal(completion.choices[0]?.message.content, "Hello from native");
  assert.equal(completion.choices[0]?.finish_reason, "stop");
  assert.ok((completion.usage?.completion_tokens ?? 0) > 0);
});

Deno.test("Ollama's NDJSON stream reaches the SDK as SSE chunks, usage last", async () => {
  await using t = await ollamaBehind();
  const stream = await t.client.chat.completions.create({
    model: MODEL,
    messages: [{ role: "user", content: "Hi" }],
    stream: true,
    stream_options: { include_usage: true },
  });
  const pieces: string[] = [];
  let finish: string | null | undefined;
  let usage: OpenAI.CompletionUsage | null | undefined;
  for await (const chunk of stream) {
    pieces.push(chunk.choices[0]?.delta.content ?? "");
    finish ??= chunk.choices[0]?.finish_reason;
    if (chunk.usage) usage = chunk.usage;
  }
  assert.equal(pieces.join(""), "Hello from native");
  assert.equal(finish, "stop");
  assert.ok(usage && usage.total_tokens > 0);
  assert.equal(lastBody(t.ollama).stream, true);
});

Deno.test("the raw stream is unbuffered text/event-stream and ends with [DONE]", async () => {
  await using t = await ollamaBehind();
  const response = await postNativeChat(t.gateway, { stream: true });
  assert.equal(response.headers.get("content-type"), "text/event-stream");
  assert.equal(response.headers.get("x-accel-buffering"), "no");
  const text = await response.text();
  assert.ok(text.startsWith("data: {"));
  assert.ok(text.endsWith("data: [DONE]\n\n"));
});

Deno.test("tools go to Ollama and its tool call comes back as OpenAI's", async () => {
  await using t = await ollamaBehind({ toolCall: { arguments: { city: "Oslo" } } });
  const completion = await t.client.chat.completions.create({
    model: MODEL,
    messages: [{ role: "user", content: "Weather in Oslo?" }],
    tools: [{
      type: "function",
      function: { name: "weather", parameters: { type: "object", properties: {} } },
    }],
  });
  assert.ok(Array.isArray(lastBody(t.ollama).tools));
  const call = completion.choices[0]?.message.tool_calls?.[0];
  assert.equal(completion.choices[0]?.finish_reason, "tool_calls");
  assert.ok(call && call.type === "function");
  assert.equal(call.function.name, "weather");
  assert.deepEqual(JSON.parse(call.function.arguments), { city: "Oslo" });
});

Deno.test("a field the native API has no place for is refused, naming it", async () => {
  await using t = await ollamaBehind();
  const response = await postNativeChat(t.gateway, { n: 3 });
  assert.equal(response.status, 400);
  const { error } = await response.json();
  assert.equal(error.code, "unsupported_parameter");
  assert.equal(error.param, "n");
  assert.equal(t.ollama.requests.length, 0, "nothing reached the backend");
});

Deno.test("an Ollama error comes back in OpenAI's shape", async () => {
  await using t = await ollamaBehind();
  t.ollama.setModels([]);
  const response = await postNativeChat(t.gateway);
  assert.equal(response.status, 404);
  const { error } = await response.json();
  assert.equal(error.code, "model_not_found");
  assert.match(error.message, /not found/);
});

Deno.test("completions go to /api/generate of a chat instance on /api/chat", async () => {
  await using t = await ollamaBehind();
  const completion = await t.client.completions.create({ model: MODEL, prompt: "Say hi" });
  assert.equal(t.ollama.requests.at(-1)?.path, "/api/generate");
  assert.equal(completion.object, "text_completion");
  assert.equal(completion.choices[0]?.text, "Hello from native");
});

Deno.test("embeddings through /api/embed, as floats and as the SDK's base64", async () => {
  await using t = await ollamaBehind({ dimensions: 4 });
  const viaSdk = await t.client.embeddings.create({ model: MODEL, input: ["a", "b"] });
  assert.equal(viaSdk.data.length, 2);
  assert.equal(viaSdk.data[1]?.embedding.length, 4, "the SDK decoded base64 to 4 floats");
  assert.equal(t.ollama.requests.at(-1)?.path, "/api/embed");
  const response = await fetch(`${t.gateway.url}/v1/embeddings`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: MODEL, input: "a", encoding_format: "float" }),
  });
  const body = await response.json();
  assert.equal(body.object, "list");
  // base64 carries float32, as OpenAI's does.
  assert.deepEqual(body.data[0].embedding.map(Math.fround), viaSdk.data[0]?.embedding);
});

Deno.test("an error in the middle of an Ollama stream ends the SSE stream with an error event", async () => {
  await using t = await ollamaBehind({ stream: { failAfter: 1, errorMessage: "out of memory" } });
  const response = await postNativeChat(t.gateway, { stream: true });
  const events = (await response.text()).split("\n\n").filter(Boolean);
  const last = JSON.parse(events.at(-1)!.slice("data: ".length));
  assert.equal(last.error.message, "out of memory");
  assert.ok(!events.includes("data: [DONE]"));
});

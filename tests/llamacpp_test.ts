/**
 * The `llamacpp` adapter against an emulated `llama-server`: its `/v1` paths with `--api-key`
 * as a bearer token, `/health` (down while the model loads), discovery on `/v1/models`, and
 * its load from `/metrics` steering `least-load`.
 */
import assert from "node:assert/strict";
import OpenAI from "openai";
import { startLlamaCpp } from "./fixtures/backends/mod.ts";
import { eventually } from "./fixtures/gate.ts";
import { startGateway, type TestGateway } from "./fixtures/gateway.ts";
import { postChat } from "./fixtures/requests.ts";

async function chatContent(gateway: TestGateway, model: string): Promise<string> {
  const response = await postChat(gateway.url, { model });
  const body = await response.json();
  assert.equal(response.status, 200, JSON.stringify(body));
  return body.choices[0].message.content;
}

Deno.test("llamacpp: chat, embeddings and rerank on /v1, the --api-key as a bearer token", async () => {
  await using server = await startLlamaCpp({ apiKey: "local-key", name: "gguf" });
  await using gateway = await startGateway(`model:
  adapter: llamacpp
  services:
    chat:
      instances: [{ name: qwen, base-url: "${server.url}", api-key: local-key }]
    embedding:
      instances: [{ name: embed, base-url: "${server.url}", api-key: local-key }]
    rerank:
      instances: [{ name: rank, base-url: "${server.url}", api-key: local-key }]
`);
  assert.equal(await chatContent(gateway, "qwen"), "Hello from gguf");
  const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: "sk-test", maxRetries: 0 });
  await client.embeddings.create({ model: "embed", input: "hello" });
  const rerank = await fetch(`${gateway.url}/v1/rerank`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "rank", query: "q", documents: ["a", "b"] }),
  });
  assert.equal(rerank.status, 200, await rerank.text());
  assert.deepEqual(server.requests.map((request) => request.path), [
    "/v1/chat/completions",
    "/v1/embeddings",
    "/v1/rerank",
  ]);
  for (const request of server.requests) {
    assert.equal(request.headers.get("authorization"), "Bearer local-key");
  }
});

Deno.test("llamacpp: a server still loading its model is down until /health answers 200", async () => {
  await using server = await startLlamaCpp({ health: "failing", name: "gguf" });
  await using gateway = await startGateway(`model:
  health-check: { interval: 100, timeout: 500, unhealthy-threshold: 1, healthy-threshold: 1 }
  services:
    chat:
      instances: [{ name: qwen, base-url: "${server.url}", adapter: llamacpp }]
`);
  const healthOf = async () =>
    (await (await fetch(`${gateway.url}/v1/chat/status`)).json()).instances[0].health.status;
  await eventually(async () => assert.equal(await healthOf(), "down"), 2_000);
  assert.equal((await postChat(gateway.url, { model: "qwen" })).status, 503);
  server.setHealth("up");
  await eventually(async () => assert.equal(await healthOf(), "up"), 2_000);
  assert.equal(await chatContent(gateway, "qwen"), "Hello from gguf");
  assert.ok(server.hits("GET", "/health") >= 2);
  assert.equal(server.hits("POST", "/v1/chat/completions"), 1);
});

Deno.test("llamacpp: discovery serves the model /v1/models lists", async () => {
  await using server = await startLlamaCpp({ models: ["Qwen3-0.6B-Q8_0.gguf"] });
  await using gateway = await startGateway(`model:
  discovery: { interval: 100 }
  services:
    chat:
      instances: [{ name: "*", base-url: "${server.url}", adapter: llamacpp, discover: true }]
`);
  const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: "sk-test", maxRetries: 0 });
  await eventually(async () => {
    const models = (await client.models.list()).data;
    assert.deepEqual(models.map((model) => [model.id, model.owned_by]), [
      ["Qwen3-0.6B-Q8_0.gguf", "llamacpp"],
    ]);
  }, 2_000);
});

Deno.test("llamacpp: least-load reads requests processing and deferred from /metrics", async () => {
  await using busy = await startLlamaCpp({ name: "busy" });
  await using idle = await startLlamaCpp({ name: "idle" });
  busy.setLoad({ processing: 4, deferred: 9 });
  await using gateway = await startGateway(`model:
  services:
    chat:
      load-balance: { type: least-load, load-interval: 100 }
      instances:
        - { name: qwen, base-url: "${busy.url}", adapter: llamacpp }
        - { name: qwen, base-url: "${idle.url}", adapter: llamacpp }
`);
  await eventually(async () => {
    const status = await (await fetch(`${gateway.url}/v1/chat/status`)).json();
    assert.deepEqual(
      status.instances.map((i: { load: { running: number; waiting: number } | null }) =>
        i.load && { running: i.load.running, waiting: i.load.waiting }
      ),
      [{ running: 4, waiting: 9 }, { running: 0, waiting: 0 }],
    );
  }, 2_000);
  for (let i = 0; i < 4; i++) assert.equal(await chatContent(gateway, "qwen"), "Hello from idle");
});

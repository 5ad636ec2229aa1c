/**
 * `GET /v1/models` in OpenAI's list shape, and the per-service status endpoints.
 */
import assert from "node:assert/strict";
import OpenAI from "openai";
import { startFakeBackend } from "./fixtures/fake_backend.ts";
import { Gate } from "./fixtures/gate.ts";
import { startGateway } from "./fixtures/gateway.ts";
import { closedPortUrl } from "./fixtures/ports.ts";

const STATUS_PATHS = [
  "/v1/chat/status",
  "/v1/completions/status",
  "/v1/embeddings/status",
  "/v1/rerank/status",
  "/v1/audio/speech/status",
  "/v1/audio/transcriptions/status",
  "/v1/images/generations/status",
  "/v1/images/edits/status",
];

const CONFIG = (url: string) => `
model:
  services:
    chat:
      load-balance:
        type: round-robin
      instances:
        - name: llama3
          base-url: ${url}
          weight: 3
        - name: qwen3
          base-url: ${url}/
          path: /custom/chat/completions
    embedding:
      instances:
        - name: bge-m3
          base-url: ${url}
    rerank:
      instances:
        - name: bge-reranker
          base-url: ${url}
    tts:
      instances:
        - name: kokoro
          base-url: ${url}
    stt:
      instances:
        - name: whisper
          base-url: ${url}
    imgGen:
      instances:
        - name: sdxl
          base-url: ${url}
    imgEdit:
      instances:
        - name: sdxl
          base-url: ${url}
        - name: "flux-*"
          base-url: ${url}
`;

Deno.test("GET /v1/models lists every configured model once, in OpenAI's list shape", async () => {
  await using gateway = await startGateway(CONFIG("http://127.0.0.1:9"));
  const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: "sk-test", maxRetries: 0 });
  const ids: string[] = [];
  for await (const model of client.models.list()) {
    assert.equal(model.object, "model");
    assert.equal(typeof model.created, "number");
    assert.equal(typeof model.owned_by, "string");
    ids.push(model.id);
  }
  assert.deepEqual(
    ids.toSorted(),
    ["bge-m3", "bge-reranker", "kokoro", "llama3", "qwen3", "sdxl", "whisper"],
  );
  const raw = await (await fetch(`${gateway.url}/v1/models`)).json();
  assert.equal(raw.object, "list");
  assert.ok(Array.isArray(raw.data));
});

Deno.test("GET /v1/models/{id} retrieves one model, ids with / and : included", async () => {
  await using gateway = await startGateway(`
model:
  services:
    chat:
      instances:
        - { name: llama3, base-url: "http://127.0.0.1:9" }
        - { name: "org/model:tag", base-url: "http://127.0.0.1:9" }
`);
  const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: "sk-test", maxRetries: 0 });
  const model = await client.models.retrieve("llama3");
  assert.deepEqual(
    { id: model.id, object: model.object, owned_by: model.owned_by },
    { id: "llama3", object: "model", owned_by: "switchyard" },
  );
  assert.equal(typeof model.created, "number");
  assert.equal((await client.models.retrieve("org/model:tag")).id, "org/model:tag");
  const raw = await fetch(`${gateway.url}/v1/models/org/model:tag`);
  assert.equal(raw.status, 200);
  assert.equal((await raw.json()).id, "org/model:tag");

  await assert.rejects(client.models.retrieve("nope"), (error: unknown) => {
    assert.ok(error instanceof OpenAI.NotFoundError);
    return true;
  });
  const missing = await fetch(`${gateway.url}/v1/models/no/such:model`);
  assert.equal(missing.status, 404);
  const body = await missing.json();
  assert.equal(body.error.code, "model_not_found");
  assert.equal(body.error.type, "invalid_request_error");
  assert.equal(body.error.param, "model");
  assert.match(body.error.message, /"no\/such:model"/);
});

Deno.test("every status endpoint shows its instances with their fields", async () => {
  await using gateway = await startGateway(CONFIG("http://127.0.0.1:9"));
  for (const path of STATUS_PATHS) {
    const response = await fetch(`${gateway.url}${path}`);
    assert.equal(response.status, 200, path);
    const status = await response.json();
    assert.ok(status.instances.length >= 1, `${path} has instances`);
    for (const instance of status.instances) {
      assert.equal(typeof instance.id, "string", path);
      assert.equal(typeof instance.name, "string", path);
      assert.equal(instance.baseUrl, "http://127.0.0.1:9", path);
      assert.match(instance.path, /^\//, path);
      assert.equal(typeof instance.weight, "number", path);
      assert.equal(instance.activeRequests, 0, path);
      assert.equal(instance.lastError, null, path);
    }
  }
  const chat = await (await fetch(`${gateway.url}/v1/chat/status`)).json();
  assert.equal(chat.strategy, "round-robin");
  assert.deepEqual(
    chat.instances.map((i: Record<string, unknown>) => [i.name, i.path, i.weight]),
    [["llama3", "/v1/chat/completions", 3], ["qwen3", "/custom/chat/completions", 1]],
  );
  const completions = await (await fetch(`${gateway.url}/v1/completions/status`)).json();
  assert.deepEqual(
    completions.instances.map((i: Record<string, unknown>) => i.path),
    ["/v1/completions", "/custom/completions"],
  );
});

Deno.test("status shows a request in flight and the last error", async () => {
  const hold = new Gate();
  await using backend = await startFakeBackend({ hold });
  const dead = closedPortUrl();
  await using gateway = await startGateway(`
server:
  retries: 0
model:
  services:
    chat:
      instances:
        - name: live
          base-url: ${backend.url}
        - name: dead
          base-url: ${dead}
`);
  const status = async () =>
    (await (await fetch(`${gateway.url}/v1/chat/status`)).json()).instances;
  const pending = fetch(`${gateway.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "live", messages: [] }),
  });
  await backend.received(1);
  assert.equal((await status())[0].activeRequests, 1);
  hold.open();
  await (await pending).body?.cancel();
  assert.equal((await status())[0].activeRequests, 0);

  const failed = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "dead", messages: [] }),
  });
  assert.equal(failed.status, 502);
  await failed.body?.cancel();
  const [, deadStatus] = await status();
  assert.equal(deadStatus.activeRequests, 0);
  assert.equal(typeof deadStatus.lastError.message, "string");
  assert.ok(!Number.isNaN(Date.parse(deadStatus.lastError.at)));
});

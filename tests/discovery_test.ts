/**
 * Model discovery: an instance with `discover: true` serves the models its backend lists, they
 * appear in `GET /v1/models`, and a model that leaves the list stops routing.
 */
import assert from "node:assert/strict";
import OpenAI from "openai";
import { startOllama } from "./fixtures/backends/mod.ts";
import { eventually } from "./fixtures/gate.ts";
import { startGateway } from "./fixtures/gateway.ts";
import { postChat } from "./fixtures/requests.ts";

Deno.test("discovered models route, are listed with their backend, and go when unlisted", async () => {
  await using ollama = await startOllama({
    name: "gpu-1",
    models: ["llama3.2:latest", "qwen3:8b"],
  });
  await using gateway = await startGateway(`model:
  discovery: { interval: 100 }
  services:
    chat:
      instances:
        - { name: "*", base-url: "${ollama.url}", adapter: ollama, discover: true }
        - { name: configured, base-url: "${ollama.url}", adapter: ollama }
`);
  const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: "sk-test", maxRetries: 0 });
  const ids = async () => (await client.models.list()).data.map((m) => [m.id, m.owned_by]);

  await eventually(async () => {
    assert.deepEqual(await ids(), [
      ["llama3.2:latest", "ollama"],
      ["llama3.2", "ollama"],
      ["qwen3:8b", "ollama"],
      ["configured", "switchyard"],
    ]);
  }, 2_000);
  const answer = await client.chat.completions.create({
    model: "qwen3:8b",
    messages: [{ role: "user", content: "Hi" }],
  });
  assert.equal(answer.choices[0]?.message.content, "Hello from gpu-1");

  ollama.setModels(["llama3.2:latest"]);
  await eventually(async () => {
    assert.ok(!(await ids()).some(([id]) => id === "qwen3:8b"));
  }, 2_000);
  const gone = await postChat(gateway.url, { model: "qwen3:8b" });
  assert.equal(gone.status, 404);
  assert.equal((await gone.json()).error.code, "model_not_found");

  const status = await (await fetch(`${gateway.url}/v1/chat/status`)).json();
  assert.deepEqual(status.instances[0].discovered, ["llama3.2:latest", "llama3.2"]);
  assert.equal(status.instances[1].discovered, null);
});

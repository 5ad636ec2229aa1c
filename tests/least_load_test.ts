/**
 * `least-load` against emulated backends: new work goes where the backend reports the shortest
 * queue, and to an Ollama server that already has the model loaded.
 */
import assert from "node:assert/strict";
import { startOllama, startVllm } from "./fixtures/backends/mod.ts";
import { eventually } from "./fixtures/gate.ts";
import { startGateway, type TestGateway } from "./fixtures/gateway.ts";
import { postChat } from "./fixtures/requests.ts";

async function chat(gateway: TestGateway, model: string): Promise<string> {
  const response = await postChat(gateway.url, { model });
  assert.equal(response.status, 200);
  return (await response.json()).choices[0].message.content;
}

async function loadsReported(gateway: TestGateway, count: number): Promise<void> {
  await eventually(async () => {
    const status = await (await fetch(`${gateway.url}/v1/chat/status`)).json();
    const reported = status.instances.filter((i: { load: unknown }) => i.load !== null);
    assert.equal(reported.length, count);
  }, 2_000);
}

Deno.test("least-load sends new work to the vLLM server with the shorter queue", async () => {
  await using busy = await startVllm({ name: "busy", models: ["qwen"] });
  await using idle = await startVllm({ name: "idle", models: ["qwen"] });
  busy.setLoad({ running: 8, waiting: 12, kvCacheUsage: 0.9 });
  await using gateway = await startGateway(`model:
  services:
    chat:
      load-balance: { type: least-load, load-interval: 100 }
      instances:
        - { name: qwen, base-url: "${busy.url}", adapter: vllm }
        - { name: qwen, base-url: "${idle.url}", adapter: vllm }
`);
  await loadsReported(gateway, 2);
  for (let i = 0; i < 5; i++) assert.equal(await chat(gateway, "qwen"), "Hello from idle");

  busy.setLoad({ running: 0, waiting: 0, kvCacheUsage: 0 });
  idle.setLoad({ running: 6, waiting: 3 });
  await eventually(async () => assert.equal(await chat(gateway, "qwen"), "Hello from busy"), 2_000);
  const status = await (await fetch(`${gateway.url}/v1/chat/status`)).json();
  assert.equal(status.strategy, "least-load");
  assert.deepEqual(
    { running: status.instances[1].load.running, waiting: status.instances[1].load.waiting },
    { running: 6, waiting: 3 },
  );
});

Deno.test("least-load prefers the Ollama server that has the model loaded", async () => {
  await using cold = await startOllama({ name: "cold", models: ["llama3.2:latest", "qwen3:8b"] });
  await using warm = await startOllama({ name: "warm", models: ["llama3.2:latest", "qwen3:8b"] });
  cold.setLoaded(["qwen3:8b"]);
  warm.setLoaded(["llama3.2:latest"]);
  await using gateway = await startGateway(`model:
  services:
    chat:
      load-balance: { type: least-load, load-interval: 100 }
      instances:
        - { name: "*", base-url: "${cold.url}", adapter: ollama }
        - { name: "*", base-url: "${warm.url}", adapter: ollama }
`);
  await loadsReported(gateway, 2);
  for (let i = 0; i < 4; i++) assert.equal(await chat(gateway, "llama3.2"), "Hello from warm");
  for (let i = 0; i < 4; i++) assert.equal(await chat(gateway, "qwen3:8b"), "Hello from cold");
});

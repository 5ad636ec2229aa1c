/**
 * `least-load` fuses the gateway's own requests and tokens in flight with what engines report:
 * a vLLM reading counts less as it ages and not at all once old, a failed scrape leaves the
 * last reading to age, llama.cpp's busy slots count where it serves no `/metrics`.
 */
import assert from "node:assert/strict";
import { READING_HALF_LIFE, READING_MAX_AGE } from "../src/balancer/least_load.ts";
import { startLlamaCpp, startOllama, startVllm } from "./fixtures/backends/mod.ts";
import { manualClock, manualSchedule } from "./fixtures/clock.ts";
import { startFakeBackend } from "./fixtures/fake_backend.ts";
import { eventually, Gate } from "./fixtures/gate.ts";
import { startGateway, type TestGateway } from "./fixtures/gateway.ts";
import { postChat, serviceStatus } from "./fixtures/requests.ts";

/** The backend that answered a chat request, by its "Hello from <name>". */
async function answeredBy(gateway: TestGateway, model: string): Promise<string> {
  const response = await postChat(gateway.url, { model });
  assert.equal(response.status, 200);
  return (await response.json()).choices[0].message.content.replace("Hello from ", "");
}

async function answers(gateway: TestGateway, model: string, count: number): Promise<string[]> {
  const names: string[] = [];
  for (let i = 0; i < count; i++) names.push(await answeredBy(gateway, model));
  return names;
}

async function loadsReported(gateway: TestGateway, count: number): Promise<void> {
  await eventually(async () => {
    const status = await serviceStatus(gateway.url);
    assert.equal(status.instances.filter((instance) => instance.load !== null).length, count);
  }, 2_000);
}

Deno.test("a vLLM reading that fails to refresh ages out, and least-load falls back to its own counts", async () => {
  const clock = manualClock();
  const time = manualSchedule();
  await using busy = await startVllm({ name: "busy", models: ["qwen"] });
  await using idle = await startVllm({ name: "idle", models: ["qwen"] });
  busy.setLoad({ running: 8, waiting: 12, kvCacheUsage: 0.9 });
  await using gateway = await startGateway(
    `model:
  services:
    chat:
      load-balance: { type: least-load, load-interval: 100 }
      instances:
        - { name: qwen, base-url: "${busy.url}", adapter: vllm }
        - { name: qwen, base-url: "${idle.url}", adapter: vllm }
`,
    { now: clock.now, schedule: time.schedule },
  );
  await loadsReported(gateway, 2);
  assert.deepEqual(await answers(gateway, "qwen", 4), ["idle", "idle", "idle", "idle"]);

  // The scrape fails: no halt, no error, the last reading stays with its time.
  busy.setMetricsFailing(true);
  const scrapes = busy.hits("GET", "/metrics");
  time.fireAll();
  await eventually(() => {
    assert.equal(busy.hits("GET", "/metrics"), scrapes + 1);
    assert.equal(time.waiting().filter((ms) => ms === 100).length, 2);
    return Promise.resolve();
  }, 2_000);
  const status = await serviceStatus(gateway.url);
  assert.equal(status.instances[0]!.load?.waiting, 12, "the last reading is kept");
  assert.deepEqual(await answers(gateway, "qwen", 4), ["idle", "idle", "idle", "idle"]);

  // At half weight, 20 queued still count as 10.
  clock.advance(READING_HALF_LIFE);
  assert.deepEqual(await answers(gateway, "qwen", 2), ["idle", "idle"]);

  // Old: only the gateway's own counts (none in flight), so the two take turns.
  clock.advance(READING_MAX_AGE);
  const turns = await answers(gateway, "qwen", 4);
  assert.deepEqual(new Set(turns), new Set(["busy", "idle"]), `${turns}`);
});

Deno.test("least-load reads llama.cpp's busy slots when it serves no /metrics", async () => {
  await using busy = await startLlamaCpp({ name: "busy", metrics: false, slots: 4 });
  await using idle = await startLlamaCpp({ name: "idle", metrics: false, slots: 4 });
  busy.setLoad({ processing: 4 });
  await using gateway = await startGateway(`model:
  services:
    chat:
      load-balance: { type: least-load, load-interval: 100 }
      instances:
        - { name: m, base-url: "${busy.url}", adapter: llamacpp }
        - { name: m, base-url: "${idle.url}", adapter: llamacpp }
`);
  await loadsReported(gateway, 2);
  assert.deepEqual(await answers(gateway, "m", 4), ["idle", "idle", "idle", "idle"]);
  const status = await serviceStatus(gateway.url);
  assert.equal(status.instances[0]!.load?.running, 4);
  assert.ok(busy.hits("GET", "/slots") > 0);
});

Deno.test("least-load counts the tokens in flight: a long request weighs more than a short one", async () => {
  const gate = new Gate();
  await using first = await startFakeBackend({ name: "first", hold: gate });
  await using second = await startFakeBackend({ name: "second", hold: gate });
  await using gateway = await startGateway(`model:
  services:
    chat:
      load-balance: { type: least-load }
      instances:
        - { name: m, base-url: "${first.url}" }
        - { name: m, base-url: "${second.url}" }
`);
  const long = postChat(gateway.url, { max_tokens: 8_000 });
  await first.received(1);
  const short = postChat(gateway.url, { max_tokens: 10 });
  await second.received(1);
  // One request in flight on each: by count a tie, taken in turn (the first's); by tokens the
  // second has far less to do.
  const next = postChat(gateway.url, { max_tokens: 10 });
  await eventually(() => {
    assert.equal(first.requests.length + second.requests.length, 3);
    return Promise.resolve();
  }, 2_000);
  gate.open();
  const bodies = await Promise.all([long, short, next].map(async (answer) => {
    const response = await answer;
    assert.equal(response.status, 200);
    return await response.json();
  }));
  assert.deepEqual(bodies.map((body) => body.backend), ["first", "second", "second"]);
  const status = await serviceStatus(gateway.url);
  assert.deepEqual(status.instances.map((instance) => instance.activeTokens), [0, 0]);
});

Deno.test("least-load loads a model where it evicts no other, when it is loaded nowhere", async () => {
  const models = ["llama3.2:latest", "qwen3:8b", "gemma3:4b"];
  await using full = await startOllama({ name: "full", models });
  await using empty = await startOllama({ name: "empty", models });
  full.setLoaded(["qwen3:8b"]);
  empty.setLoaded([]);
  await using gateway = await startGateway(`model:
  services:
    chat:
      load-balance: { type: least-load, load-interval: 100 }
      instances:
        - { name: "*", base-url: "${full.url}", adapter: ollama }
        - { name: "*", base-url: "${empty.url}", adapter: ollama }
`);
  await loadsReported(gateway, 2);
  assert.equal(await answeredBy(gateway, "gemma3:4b"), "empty");
});

import assert from "node:assert/strict";
import { llamacpp } from "../adapters/llamacpp.ts";
import { ollama } from "../adapters/ollama.ts";
import { vllm } from "../adapters/vllm.ts";
import { addressCheck } from "../net/address_policy.ts";
import { newBackendState } from "./backend_state.ts";
import type { Transport } from "../transport/transport.ts";
import { UpstreamAnswer } from "../transport/upstream_answer.ts";
import { BackendMonitor, type MonitoredBackend } from "./monitor.ts";
import type { Schedule } from "./poller.ts";
import type { HealthSettings } from "./settings.ts";

/** A schedule the test runs by hand: `runAll()` fires what is due, like time passing. */
function manualSchedule() {
  const pending: { callback: () => void; ms: number; cancelled: boolean }[] = [];
  const schedule: Schedule = (callback, ms) => {
    const entry = { callback, ms, cancelled: false };
    pending.push(entry);
    return { cancel: () => void (entry.cancelled = true) };
  };
  return {
    schedule,
    /** Intervals of the callbacks waiting now. */
    waiting: () => pending.filter((entry) => !entry.cancelled).map((entry) => entry.ms),
    /** Runs every waiting callback once. */
    runAll() {
      for (const entry of pending.splice(0)) if (!entry.cancelled) entry.callback();
    },
  };
}

/** Answers by path from a table; a missing path is a refused connection. */
function fakeTransport(answers: Record<string, () => Response>) {
  const calls: string[] = [];
  const transport: Transport = {
    async send(target) {
      const { pathname } = new URL(target.url);
      calls.push(pathname);
      const answer = answers[pathname];
      if (!answer) {
        throw Object.assign(new Error("Connection refused (os error 111)"), {
          name: "ConnectionRefused",
        });
      }
      const response = answer();
      const headers: [string, string][] = [];
      response.headers.forEach((value, name) => headers.push([name, value]));
      return new UpstreamAnswer(response.status, "", headers, await response.bytes());
    },
    close: () => Promise.resolve(),
  };
  return { transport, calls };
}

const HEALTH: HealthSettings = {
  enabled: true,
  interval: 10_000,
  timeout: 2_000,
  unhealthyThreshold: 3,
  healthyThreshold: 2,
};

function backend(overrides: Partial<MonitoredBackend> = {}): MonitoredBackend {
  return {
    target: { baseUrl: "http://127.0.0.1:8000", adapter: vllm, headers: [] },
    state: newBackendState("vllm http://127.0.0.1:8000"),
    health: HEALTH,
    discoveryInterval: undefined,
    loadInterval: undefined,
    ...overrides,
  };
}

/** Lets the probes' promises settle. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

Deno.test("the monitor probes at once, then every interval, and reports changes", async () => {
  const time = manualSchedule();
  let up = true;
  const { transport, calls } = fakeTransport({
    "/health": () => new Response(null, { status: up ? 200 : 503 }),
  });
  const changes: string[] = [];
  const watched = backend();
  const monitor = new BackendMonitor({
    transport,
    schedule: time.schedule,
    now: () => 42,
    onHealthChanged: (b) => changes.push(b.state.health.status),
  });
  monitor.sync([watched]);
  await settle();
  assert.deepEqual(calls, ["/health"]);
  assert.equal(watched.state.health.status, "up");
  assert.deepEqual(time.waiting(), [10_000]);

  up = false;
  time.runAll();
  await settle();
  assert.equal(watched.state.health.status, "down");
  assert.match(watched.state.health.reason, /GET \/health answered 503/);
  assert.deepEqual(changes, ["up", "down"]);
  monitor.stop();
  assert.deepEqual(time.waiting(), []);
});

Deno.test("discovery reads the model list and reports a change only when it differs", async () => {
  const time = manualSchedule();
  let models = ["llama3.2:latest"];
  const { transport } = fakeTransport({
    "/api/version": () => Response.json({ version: "0.12.3" }),
    "/api/tags": () => Response.json({ models: models.map((name) => ({ name })) }),
  });
  const listed: (readonly string[] | undefined)[] = [];
  const watched = backend({
    target: { baseUrl: "http://127.0.0.1:11434", adapter: ollama, headers: [] },
    state: newBackendState("ollama http://127.0.0.1:11434"),
    discoveryInterval: 30_000,
  });
  const monitor = new BackendMonitor({
    transport,
    schedule: time.schedule,
    onModelsChanged: (b) => listed.push(b.state.models),
  });
  monitor.sync([watched]);
  await settle();
  assert.deepEqual(watched.state.models, ["llama3.2:latest", "llama3.2"]);
  time.runAll();
  await settle();
  assert.equal(listed.length, 1, "the same list again is no change");
  models = ["qwen3:8b"];
  time.runAll();
  await settle();
  assert.deepEqual(listed.at(-1), ["qwen3:8b"]);
  monitor.stop();
});

Deno.test("discovery learns vLLM's context lengths from the same model list read", async () => {
  const time = manualSchedule();
  let length = 8192;
  const { transport, calls } = fakeTransport({
    "/v1/models": () =>
      Response.json({ object: "list", data: [{ id: "m", max_model_len: length }, { id: "n" }] }),
  });
  const changed: unknown[] = [];
  const watched = backend({ health: { ...HEALTH, enabled: false }, discoveryInterval: 1_000 });
  const monitor = new BackendMonitor({
    transport,
    schedule: time.schedule,
    onModelsChanged: (b) => changed.push(b.state.capabilities?.get("m")),
  });
  monitor.sync([watched]);
  await settle();
  assert.deepEqual(calls, ["/v1/models"]);
  assert.deepEqual([...watched.state.capabilities ?? []], [["m", { context: 8192 }]]);
  time.runAll();
  await settle();
  assert.equal(changed.length, 1, "the same capabilities again are no change");
  length = 4096;
  time.runAll();
  await settle();
  assert.deepEqual(changed, [{ context: 8192 }, { context: 4096 }]);
  monitor.stop();
});

Deno.test("discovery learns llama.cpp's slot context and modalities from /props", async () => {
  const time = manualSchedule();
  let props = () =>
    Response.json({
      default_generation_settings: { n_ctx: 2048 },
      modalities: { vision: true, audio: false },
    });
  const { transport } = fakeTransport({
    "/v1/models": () => Response.json({ object: "list", data: [{ id: "qwen.gguf" }] }),
    "/props": () => props(),
  });
  const watched = backend({
    target: { baseUrl: "http://127.0.0.1:8080", adapter: llamacpp, headers: [] },
    state: newBackendState("llamacpp http://127.0.0.1:8080"),
    health: { ...HEALTH, enabled: false },
    discoveryInterval: 1_000,
  });
  const monitor = new BackendMonitor({ transport, schedule: time.schedule });
  monitor.sync([watched]);
  await settle();
  assert.deepEqual([...watched.state.capabilities ?? []], [
    ["qwen.gguf", { context: 2048, vision: true, audio: false }],
  ]);
  // A /props that cannot be read leaves what was learned in force, as the model list.
  props = () => new Response("no", { status: 404 });
  time.runAll();
  await settle();
  assert.deepEqual(watched.state.models, ["qwen.gguf"]);
  assert.deepEqual(watched.state.capabilities?.get("qwen.gguf"), {
    context: 2048,
    vision: true,
    audio: false,
  });
  monitor.stop();
});

Deno.test("a failed model list read keeps the last list and says why", async () => {
  const time = manualSchedule();
  let answer = () => Response.json({ models: [{ name: "a" }] });
  const { transport } = fakeTransport({ "/api/tags": () => answer() });
  const watched = backend({
    target: { baseUrl: "http://127.0.0.1:11434", adapter: ollama, headers: [] },
    state: newBackendState("ollama http://127.0.0.1:11434"),
    health: { ...HEALTH, enabled: false },
    discoveryInterval: 1_000,
  });
  const monitor = new BackendMonitor({ transport, schedule: time.schedule });
  monitor.sync([watched]);
  await settle();
  answer = () => new Response("oops", { status: 500 });
  time.runAll();
  await settle();
  assert.deepEqual(watched.state.models, ["a"]);
  assert.equal(watched.state.modelsError, "GET /api/tags answered 500");
  monitor.stop();
});

Deno.test("load is read when asked for, and kept to age out when it cannot be read", async () => {
  const time = manualSchedule();
  let clock = 1_000;
  let metrics: string | undefined = "vllm:num_requests_running 2\nvllm:num_requests_waiting 5\n";
  const { transport } = fakeTransport({
    "/metrics": () =>
      metrics === undefined ? new Response("", { status: 404 }) : new Response(metrics),
  });
  const watched = backend({ health: { ...HEALTH, enabled: false }, loadInterval: 2_000 });
  const monitor = new BackendMonitor({ transport, schedule: time.schedule, now: () => clock });
  monitor.sync([watched]);
  await settle();
  assert.deepEqual(watched.state.load?.reading, { running: 2, waiting: 5 });
  assert.equal(watched.state.load?.readAt, 1_000);
  metrics = undefined;
  clock = 3_000;
  time.runAll();
  await settle();
  // The reading stays with the time it was taken: least-load trusts it less as it ages.
  assert.deepEqual(watched.state.load?.reading, { running: 2, waiting: 5 });
  assert.equal(watched.state.load?.readAt, 1_000);
  monitor.stop();
});

Deno.test("llama.cpp's load is read from /slots when it serves no /metrics", async () => {
  const time = manualSchedule();
  const { transport, calls } = fakeTransport({
    "/metrics": () => new Response("", { status: 501 }),
    "/slots": () =>
      Response.json([{ id: 0, is_processing: true }, { id: 1, is_processing: false }, {
        id: 2,
        is_processing: true,
      }]),
  });
  const watched = backend({
    target: { baseUrl: "http://127.0.0.1:8080", adapter: llamacpp, headers: [] },
    health: { ...HEALTH, enabled: false },
    loadInterval: 2_000,
  });
  const monitor = new BackendMonitor({ transport, schedule: time.schedule });
  monitor.sync([watched]);
  await settle();
  assert.deepEqual(watched.state.load?.reading, { running: 2 });
  assert.deepEqual(calls, ["/metrics", "/slots"]);
  monitor.stop();
});

Deno.test("sync keeps pollers whose settings did not change and restarts the others", async () => {
  const time = manualSchedule();
  const { transport, calls } = fakeTransport({ "/health": () => new Response("ok") });
  const watched = backend();
  const monitor = new BackendMonitor({ transport, schedule: time.schedule });
  monitor.sync([watched]);
  await settle();
  monitor.sync([{ ...watched }]);
  await settle();
  assert.equal(calls.length, 1, "unchanged: no new probe");
  monitor.sync([{ ...watched, health: { ...HEALTH, interval: 5_000 } }]);
  await settle();
  assert.equal(calls.length, 2, "changed: probed again at once");
  assert.deepEqual(time.waiting(), [5_000]);
  monitor.sync([]);
  assert.deepEqual(time.waiting(), []);
  monitor.stop();
});

Deno.test("sync restarts the pollers of a backend whose addresses become checked or trusted", async () => {
  const time = manualSchedule();
  const { transport, calls } = fakeTransport({ "/health": () => new Response("ok") });
  const trusted = backend();
  const checked = backend({
    target: { ...trusted.target, addressCheck: addressCheck({ allowPrivate: false }) },
  });
  const monitor = new BackendMonitor({ transport, schedule: time.schedule });
  monitor.sync([trusted]);
  await settle();
  monitor.sync([checked]);
  await settle();
  assert.equal(calls.length, 2, "checked now: probed again with the check");
  monitor.sync([trusted]);
  await settle();
  assert.equal(calls.length, 3, "trusted now: probed again without it");
  monitor.stop();
});

Deno.test("a probe that fails unexpectedly is reported as an error, and probing goes on", async () => {
  const time = manualSchedule();
  const { transport } = fakeTransport({ "/health": () => new Response(null, { status: 200 }) });
  const errors: string[] = [];
  const monitor = new BackendMonitor({
    transport,
    schedule: time.schedule,
    onHealthChanged: () => {
      throw new TypeError("a bug in the listener");
    },
    onError: (message, error) => errors.push(`${message}: ${(error as Error).message}`),
  });
  monitor.sync([backend()]);
  await settle();
  assert.deepEqual(errors, [
    "The health probe of backend vllm http://127.0.0.1:8000 failed: a bug in the listener",
  ]);
  assert.deepEqual(time.waiting(), [10_000]);
  monitor.stop();
});

/**
 * One suite for every adapter: what each must know, then what sets each apart.
 */
import assert from "node:assert/strict";
import { SERVICE_TYPES } from "../services.ts";
import { ADAPTER_NAMES, adapterFor } from "./mod.ts";
import { ollama } from "./ollama.ts";
import { vllm } from "./vllm.ts";

const OPENAI_LIST = { object: "list", data: [{ id: "m1", object: "model" }, { id: "m2" }] };

for (const name of ADAPTER_NAMES) {
  const adapter = adapterFor(name);

  Deno.test(`${name}: serves chat, and every default path is absolute`, () => {
    assert.ok(adapter.defaultPaths.chat);
    for (const type of SERVICE_TYPES) {
      const path = adapter.defaultPaths[type];
      if (path !== undefined) assert.match(path, /^\/[\w\/.-]+$/, `${type}: ${path}`);
    }
  });

  Deno.test(`${name}: probes health on a path that spends no GPU time`, () => {
    assert.match(adapter.health.path, /^\//);
    assert.doesNotMatch(adapter.health.path, /completions|embed|chat|generate/);
    assert.equal(adapter.health.healthy(200), true);
    assert.equal(adapter.health.healthy(503), false);
  });

  Deno.test(`${name}: refuses a model list of the wrong shape, naming the problem`, () => {
    assert.equal(adapter.models.format, "json");
    for (const body of [null, "text", {}, { data: "x" }, { models: [{}] }, { data: [{}] }]) {
      assert.throws(() => adapter.models.read(body), TypeError);
    }
  });

  Deno.test(`${name}: sends an API key in one lower-case header`, () => {
    const [header, value] = adapter.authHeader("sk-1");
    assert.equal(header, header.toLowerCase());
    assert.ok(value.endsWith("sk-1"), value);
  });
}

for (const name of ["openai", "gpustack", "ollama", "vllm", "xinference", "localai"] as const) {
  Deno.test(`${name}: sends an API key as a bearer token`, () => {
    assert.deepEqual(adapterFor(name).authHeader("sk-1"), ["authorization", "Bearer sk-1"]);
  });
}

for (const name of ["openai", "gpustack", "vllm", "xinference", "localai"] as const) {
  Deno.test(`${name}: reads an OpenAI model list`, () => {
    assert.deepEqual(adapterFor(name).models.read(OPENAI_LIST), ["m1", "m2"]);
  });
}

Deno.test("openai: any answer below 500 shows the server is up", () => {
  const { healthy } = adapterFor("openai").health;
  assert.equal(healthy(404), true);
  assert.equal(healthy(401), true);
  assert.equal(healthy(502), false);
});

Deno.test("normal is JAiRouter's name for openai", () => {
  assert.equal(adapterFor("normal"), adapterFor("openai"));
});

Deno.test("claude is JAiRouter's name for anthropic", () => {
  assert.equal(adapterFor("claude"), adapterFor("anthropic"));
});

Deno.test("anthropic: chat on /v1/messages, key in x-api-key, API version on every request", () => {
  const anthropic = adapterFor("anthropic");
  assert.deepEqual(anthropic.defaultPaths, { chat: "/v1/messages", messages: "/v1/messages" });
  assert.deepEqual(anthropic.authHeader("sk-ant"), ["x-api-key", "sk-ant"]);
  assert.deepEqual(anthropic.headers, [["anthropic-version", "2023-06-01"]]);
  assert.ok(anthropic.translation?.("/v1/messages", "chat"));
  assert.equal(anthropic.translation?.("/v1/messages", "completion"), undefined);
});

Deno.test("anthropic: lists its models in one page, and a refused key means down", () => {
  const anthropic = adapterFor("anthropic");
  assert.equal(anthropic.models.path, "/v1/models?limit=1000");
  const list = {
    data: [{ id: "claude-a", type: "model", display_name: "A" }, { id: "claude-b" }],
    has_more: false,
  };
  assert.deepEqual(anthropic.models.read(list), ["claude-a", "claude-b"]);
  const { path, healthy } = anthropic.health;
  assert.equal(path, "/v1/models");
  assert.equal(healthy(200), true);
  assert.equal(healthy(429), true);
  assert.equal(healthy(401), false);
  assert.equal(healthy(403), false);
  assert.equal(healthy(529), false);
});

Deno.test("gpustack: its OpenAI API is under /v1-openai, its health at /healthz", () => {
  const gpustack = adapterFor("gpustack");
  assert.equal(gpustack.defaultPaths.chat, "/v1-openai/chat/completions");
  assert.equal(gpustack.models.path, "/v1-openai/models");
  assert.equal(gpustack.health.path, "/healthz");
});

Deno.test("ollama: lists /api/tags with short names for :latest, and reads loaded models", () => {
  assert.equal(ollama.health.path, "/api/version");
  assert.deepEqual(
    ollama.models.read({ models: [{ name: "llama3.2:latest" }, { name: "qwen3:8b" }] }),
    ["llama3.2:latest", "llama3.2", "qwen3:8b"],
  );
  assert.equal(ollama.load?.path, "/api/ps");
  assert.deepEqual(ollama.load?.read({ models: [{ name: "qwen3:8b", size_vram: 1 }] }), {
    loadedModels: ["qwen3:8b"],
  });
  assert.equal(ollama.defaultPaths.rerank, undefined);
  assert.equal(ollama.defaultPaths.tts, undefined);
});

Deno.test("vllm: reads running, waiting and KV-cache usage from /metrics, ignoring noise", () => {
  const text = `# HELP vllm:num_requests_running Number of requests in model execution batches.
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{engine="0",model_name="qwen"} 3.0
vllm:num_requests_running{engine="1",model_name="qwen"} 1.0
# TYPE vllm:num_requests_waiting gauge
vllm:num_requests_waiting{engine="0",model_name="qwen"} 7.0
vllm:kv_cache_usage_perc{engine="0",model_name="qwen"} 0.25
vllm:kv_cache_usage_perc{engine="1",model_name="qwen"} 0.5
vllm:e2e_request_latency_seconds_bucket{le="0.3",model_name="qwen"} 12.0
vllm:num_requests_waiting_total_misnamed 99
process_cpu_seconds_total 12.5 1700000000000
`;
  assert.equal(vllm.load?.path, "/metrics");
  assert.equal(vllm.load?.format, "text");
  assert.deepEqual(vllm.load?.read(text), { running: 4, waiting: 7, kvCacheUsage: 0.5 });
  assert.deepEqual(
    vllm.load?.read("vllm:num_requests_running 0\nvllm:gpu_cache_usage_perc 0.1\n"),
    { running: 0, kvCacheUsage: 0.1 },
  );
  assert.throws(() => vllm.load?.read("process_cpu_seconds_total 1\n"), TypeError);
});

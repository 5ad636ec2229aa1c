import assert from "node:assert/strict";
import { parseConfig } from "../config/load.ts";
import { addressCheck } from "../net/address_policy.ts";
import { Registry } from "./registry.ts";
import type { Snapshot, Upstream } from "./snapshot.ts";

function registryFor(yaml: string): Registry {
  return new Registry(parseConfig(yaml, { source: "test" }).config.model);
}

const jairouter = await Deno.readTextFile(
  new URL("../../config/examples/jairouter.yaml", import.meta.url),
);

Deno.test("JAiRouter's example: ids are unique, URLs joined, strategies inherited", () => {
  const { services } = registryFor(jairouter).snapshot;
  const ids = Object.values(services).filter((s) => !s.derivedFrom).flatMap((s) =>
    s.upstreams.map((u) => u.id)
  );
  assert.equal(new Set(ids).size, ids.length);
  assert.equal(
    services.tts.upstreams[1]!.id,
    "cosyvoice-300m@http://172.16.30.7:9090/v1/audio/speech",
  );
  assert.equal(
    services.embedding.upstreams[2]!.url,
    "http://172.16.30.6:9090/v1/embeddings",
    "a trailing slash on base-url is not doubled",
  );
  assert.equal(services.chat.loadBalance.type, "least-connections");
  assert.equal(services.rerank.loadBalance.type, "ip-hash");
  assert.equal(services.rerank.loadBalance.hashAlgorithm, "sha256");
  assert.equal(services.tts.loadBalance.type, "random");
  assert.equal(services.chat.upstreams[0]!.adapter, "gpustack");
  assert.deepEqual(services.chat.settings["rate-limit"], {
    enabled: true,
    algorithm: "token-bucket",
    capacity: 100,
    rate: 10,
    scope: "service",
    "client-ip-enable": false,
    window: 1000,
    "warm-up-period": 10000,
    "cold-factor": 3,
  });
});

Deno.test("completions use chat's instances on their completions path", () => {
  const { services } = registryFor(jairouter).snapshot;
  assert.equal(services.completion.derivedFrom, "chat");
  assert.deepEqual(
    services.completion.upstreams.map((u) => u.path),
    ["/v1-openai/completions", "/v1/completions"],
  );
  assert.equal(services.completion.upstreams[0]!.state, services.chat.upstreams[0]!.state);
});

Deno.test("responses use chat's instances: natively where the adapter serves it, else translated", () => {
  const { services } = registryFor(`model:
  services:
    chat:
      instances:
        - { name: v, base-url: "http://127.0.0.1:1", adapter: vllm, path: /x/v1/chat/completions }
        - { name: o, base-url: "http://127.0.0.1:2", adapter: ollama, path: /api/chat }
        - { name: g, base-url: "http://127.0.0.1:3", adapter: openai }
        - { name: a, base-url: "http://127.0.0.1:4", adapter: anthropic }
`).snapshot;
  const responses = services.responses;
  assert.equal(responses.derivedFrom, "chat");
  assert.deepEqual(
    responses.upstreams.map((u) => [u.name, u.path, u.translation?.name, u.native]),
    [
      ["v", "/x/v1/responses", undefined, undefined],
      ["o", "/v1/responses", undefined, undefined],
      ["g", "/v1/chat/completions", "responses over chat completions", undefined],
    ],
  );
  assert.equal(responses.upstreams[2]!.state, services.chat.upstreams[2]!.state);
});

Deno.test("a configured responses service is used as it is, translated on a chat path", () => {
  const { services } = registryFor(`model:
  services:
    chat:
      instances: [{ name: a, base-url: "http://127.0.0.1:1" }]
    responses:
      instances:
        - { name: b, base-url: "http://127.0.0.1:2", path: /v1/responses }
        - { name: c, base-url: "http://127.0.0.1:3", path: /v1/chat/completions }
        - { name: d, base-url: "http://127.0.0.1:4", adapter: vllm }
`).snapshot;
  const responses = services.responses;
  assert.equal(responses.derivedFrom, undefined);
  assert.equal(responses.resolve("a"), undefined);
  assert.deepEqual(
    responses.upstreams.map((u) => [u.url, u.translation?.name]),
    [
      ["http://127.0.0.1:2/v1/responses", undefined],
      ["http://127.0.0.1:3/v1/chat/completions", "responses over chat completions"],
      ["http://127.0.0.1:4/v1/responses", undefined],
    ],
  );
});

Deno.test("a configured completion service is used as it is", () => {
  const { services } = registryFor(`model:
  services:
    chat:
      instances: [{ name: a, base-url: "http://127.0.0.1:1" }]
    completion:
      instances: [{ name: b, base-url: "http://127.0.0.1:2", path: /legacy }]
`).snapshot;
  assert.equal(services.completion.derivedFrom, undefined);
  assert.equal(services.completion.resolve("b")?.upstreams[0]?.url, "http://127.0.0.1:2/legacy");
  assert.equal(services.completion.resolve("a"), undefined);
});

Deno.test("Messages use chat's instances: natively where the backend speaks it, else translated", () => {
  const { services } = registryFor(`model:
  services:
    chat:
      instances:
        - { name: v, base-url: "http://127.0.0.1:1", adapter: vllm }
        - { name: o, base-url: "http://127.0.0.1:2", adapter: ollama, path: /api/chat }
        - { name: p, base-url: "http://127.0.0.1:3", adapter: vllm, path: /gpu/v1/chat/completions }
        - { name: c, base-url: "http://127.0.0.1:4" }
`).snapshot;
  const messages = services.messages;
  assert.equal(messages.derivedFrom, "chat");
  assert.deepEqual(
    messages.upstreams.map((u) => [u.url, u.translation?.name]),
    [
      ["http://127.0.0.1:1/v1/messages", undefined],
      ["http://127.0.0.1:2/v1/messages", undefined],
      ["http://127.0.0.1:3/gpu/v1/messages", undefined],
      ["http://127.0.0.1:4/v1/chat/completions", "Anthropic Messages to chat completions"],
    ],
  );
  assert.equal(messages.upstreams[0]!.state, services.chat.upstreams[0]!.state);
  const counts = messages.tokenCounts!;
  assert.equal(
    counts.resolve("v")?.upstreams[0]?.url,
    "http://127.0.0.1:1/v1/messages/count_tokens",
  );
  assert.equal(
    counts.resolve("c")?.upstreams[0]?.translation?.name,
    "no token counting on chat completions",
  );
});

Deno.test("a configured messages service is used as it is", () => {
  const { services } = registryFor(`model:
  services:
    chat:
      instances: [{ name: a, base-url: "http://127.0.0.1:1" }]
    messages:
      instances: [{ name: b, base-url: "http://127.0.0.1:2", path: /anthropic/v1/messages }]
`).snapshot;
  assert.equal(services.messages.derivedFrom, undefined);
  assert.equal(
    services.messages.resolve("b")?.upstreams[0]?.url,
    "http://127.0.0.1:2/anthropic/v1/messages",
  );
  assert.equal(services.messages.resolve("a"), undefined);
});

Deno.test("adapter default paths apply when an instance has no path", () => {
  const { services } = registryFor(`model:
  adapter: gpustack
  services:
    embedding:
      instances:
        - { name: e, base-url: "http://127.0.0.1:80" }
        - { name: e, base-url: "http://[::1]:11434", adapter: ollama }
`).snapshot;
  const [gpustack, ollama] = services.embedding.upstreams;
  assert.equal(gpustack!.url, "http://127.0.0.1:80/v1-openai/embeddings");
  assert.equal(ollama!.url, "http://[::1]:11434/v1/embeddings");
  assert.equal(ollama!.http1.hostname, "::1");
  assert.equal(ollama!.http1.port, 11434);
  assert.equal(gpustack!.http1.port, 80);
});

Deno.test("exact names win over patterns; the first matching pattern serves", () => {
  const { services } = registryFor(`model:
  services:
    chat:
      instances:
        - { name: "qwen*", base-url: "http://127.0.0.1:1" }
        - { name: "*", base-url: "http://127.0.0.1:2" }
        - { name: "qwen3:8b", base-url: "http://127.0.0.1:3" }
`).snapshot;
  assert.equal(services.chat.resolve("qwen3:8b")?.pattern, false);
  assert.equal(services.chat.resolve("qwen2.5")?.name, "qwen*");
  assert.equal(services.chat.resolve("llama3")?.name, "*");
  assert.deepEqual(registryFor("model: {}").snapshot.models, []);
});

Deno.test("the model list is the union of exact names across services", () => {
  const { models } = registryFor(jairouter).snapshot;
  const sd = models.find((m) => m.id === "stable-diffusion-2-1");
  assert.deepEqual(sd?.services, ["imgGen", "imgEdit"]);
  assert.equal(models.filter((m) => m.id === "qwen3:1.7B").length, 1);
});

Deno.test("applying a config keeps state of instances that remain and drops the rest", () => {
  const registry = registryFor(`model:
  services:
    chat:
      instances:
        - { name: a, base-url: "http://127.0.0.1:1" }
        - { name: b, base-url: "http://127.0.0.1:2" }
`);
  const before = registry.snapshot;
  before.services.chat.upstreams[0]!.state.requests = 7;
  const after = registry.apply(
    parseConfig(
      `model:
  services:
    chat:
      instances:
        - { name: a, base-url: "http://127.0.0.1:1", weight: 3 }
`,
      { source: "t" },
    ).config.model,
  );
  assert.notEqual(after, before);
  assert.equal(after.services.chat.upstreams[0]!.state.requests, 7);
  assert.equal(after.services.chat.upstreams[0]!.weight, 3);
  assert.equal(before.services.chat.upstreams.length, 2, "the old snapshot is unchanged");
});

Deno.test("one backend per adapter and base URL, shared by its instances in every service", () => {
  const { services, backends } = registryFor(`model:
  health-check: { interval: 5000 }
  services:
    chat:
      health-check: { timeout: 700 }
      instances:
        - { name: a, base-url: "http://127.0.0.1:8000", adapter: vllm, api-key: sk-1 }
        - { name: b, base-url: "http://127.0.0.1:8000/", adapter: vllm }
    embedding:
      instances:
        - { name: e, base-url: "http://127.0.0.1:8000", adapter: vllm }
        - { name: e, base-url: "http://127.0.0.1:8000", adapter: openai }
`).snapshot;
  assert.deepEqual(backends.map((b) => b.state.key), [
    "vllm http://127.0.0.1:8000",
    "openai http://127.0.0.1:8000",
  ]);
  const [a, b] = services.chat.upstreams;
  assert.equal(a!.backend, b!.backend);
  assert.equal(services.embedding.upstreams[0]!.backend, a!.backend);
  assert.deepEqual(a!.headers, [["authorization", "Bearer sk-1"]]);
  assert.deepEqual(backends[0]!.target.headers, [["authorization", "Bearer sk-1"]]);
  assert.deepEqual(backends[0]!.health, {
    enabled: true,
    interval: 5_000,
    timeout: 700,
    unhealthyThreshold: 3,
    healthyThreshold: 2,
  });
  assert.equal(backends[0]!.discoveryInterval, undefined);
  assert.equal(backends[0]!.loadInterval, undefined, "no least-load pool needs it");
});

Deno.test("an instance's headers win over its api-key, named in lower case", () => {
  const { services } = registryFor(`model:
  services:
    chat:
      instances:
        - name: a
          base-url: "http://127.0.0.1:8000"
          api-key: sk-1
          headers: { Authorization: "Token x" }
`).snapshot;
  assert.deepEqual(services.chat.upstreams[0]!.headers, [
    ["authorization", "Bearer sk-1"],
    ["authorization", "Token x"],
  ]);
});

Deno.test("least-load pools ask their backends for load at the fastest interval", () => {
  const { backends } = registryFor(`model:
  services:
    chat:
      load-balance: { type: least-load, load-interval: 500 }
      instances:
        - { name: a, base-url: "http://127.0.0.1:8000", adapter: vllm }
    embedding:
      load-balance: { type: least-load }
      instances:
        - { name: e, base-url: "http://127.0.0.1:8000", adapter: vllm }
        - { name: e, base-url: "http://127.0.0.1:9000", adapter: vllm }
`).snapshot;
  assert.deepEqual(backends.map((b) => b.loadInterval), [500, 2_000]);
});

Deno.test("a discovering instance serves what its backend lists, once it has listed", () => {
  const registry = registryFor(`model:
  discovery: { interval: 1000 }
  services:
    chat:
      instances:
        - { name: "llama*", base-url: "http://127.0.0.1:11434", adapter: ollama, discover: true }
        - { name: "llama3", base-url: "http://127.0.0.1:11435", adapter: ollama }
`);
  const before = registry.snapshot;
  assert.equal(before.backends[0]!.discoveryInterval, 1_000);
  assert.equal(before.backends[1]!.discoveryInterval, undefined);
  assert.equal(before.services.chat.resolve("llama-new")?.pattern, true, "not listed yet");
  assert.deepEqual(before.models.map((m) => m.id), ["llama3"]);

  before.backends[0]!.state.models = ["llama3", "llama2", "qwen3"];
  const after = registry.refresh();
  const llama3 = after.services.chat.resolve("llama3");
  assert.equal(llama3?.pattern, false);
  assert.deepEqual(llama3?.upstreams.map((u) => u.baseUrl), [
    "http://127.0.0.1:11434",
    "http://127.0.0.1:11435",
  ]);
  assert.equal(after.services.chat.resolve("llama2")?.upstreams.length, 1);
  assert.equal(after.services.chat.resolve("qwen3"), undefined, "listed, but not llama*");
  assert.equal(after.services.chat.resolve("llama-new"), undefined, "not listed");
  assert.deepEqual(after.models.map((m) => [m.id, m.ownedBy]), [
    ["llama3", "ollama"],
    ["llama2", "ollama"],
  ]);
});

Deno.test("only instances whose base URL the file does not name have their addresses checked", () => {
  const check = addressCheck({ allowPrivate: false });
  const file = `model:
  services:
    chat:
      instances:
        - name: a
          base-url: http://gpu-1.lan:8000/
`;
  const runtime = `${file}        - name: b
          base-url: http://gpu-2.lan:8000
`;
  const model = (yaml: string) => parseConfig(yaml, { source: "test" }).config.model;
  const registry = new Registry(model(file), { addressCheck: check });
  const checked = (upstreams: readonly Upstream[]) =>
    Object.fromEntries(upstreams.map((upstream) => [
      upstream.name,
      upstream.http1.addressCheck !== undefined,
    ]));
  const probed = (snapshot: Snapshot) =>
    snapshot.backends.map((backend) => backend.target.addressCheck !== undefined);

  assert.deepEqual(checked(registry.snapshot.services.chat.upstreams), { a: false });
  const added = registry.apply(model(runtime), model(file));
  assert.deepEqual(checked(added.services.chat.upstreams), { a: false, b: true });
  assert.deepEqual(probed(added), [false, true]);
  assert.deepEqual(checked(added.services.completion.upstreams), { a: false, b: true });
  assert.notEqual(added.services.chat.upstreams[1]!.http1.key, "http://gpu-2.lan:8000");

  // The file names b as well once it is written there.
  assert.deepEqual(
    checked(registry.apply(model(runtime), model(runtime)).services.chat.upstreams),
    { a: false, b: false },
  );
  // Without a check, nothing is checked.
  assert.deepEqual(checked(new Registry(model(runtime)).snapshot.services.chat.upstreams), {
    a: false,
    b: false,
  });
});

Deno.test("a pool knows each instance's capabilities: learned ones, configured keys winning", () => {
  const registry = registryFor(`model:
  services:
    chat:
      instances:
        - { name: m, base-url: "http://127.0.0.1:8000", adapter: vllm, discover: true }
        - name: m
          base-url: "http://127.0.0.1:8001"
          adapter: vllm
          discover: true
          capabilities: { context: 2048, vision: false }
        - { name: m, base-url: "http://127.0.0.1:8002", adapter: vllm }
`);
  const before = registry.snapshot;
  const pool = before.services.chat.resolve("m")!;
  assert.deepEqual([...pool.capabilities!.values()], [{ context: 2048, vision: false }]);
  assert.equal(
    before.services.messages.tokenCounts?.resolve("m")?.capabilities,
    undefined,
    "counting tokens needs nothing",
  );

  for (const backend of before.backends.slice(0, 2)) {
    backend.state.models = ["m"];
    backend.state.capabilities = new Map([["m", { context: 32_768, tools: true }]]);
  }
  const after = registry.refresh().services.chat.resolve("m")!;
  assert.deepEqual(after.upstreams.map((upstream) => after.capabilities?.get(upstream)), [
    { context: 32_768, tools: true },
    { context: 2048, tools: true, vision: false },
    undefined,
  ]);
});

Deno.test("a pool whose instances state no capabilities knows none", () => {
  const { services } = registryFor(`model:
  services:
    chat:
      instances:
        - { name: m, base-url: "http://127.0.0.1:8000", capabilities: {} }
        - { name: m, base-url: "http://127.0.0.1:8001" }
`).snapshot;
  assert.equal(services.chat.resolve("m")?.capabilities, undefined);
});

Deno.test("max-concurrency auto: every endpoint of an instance reads its one live limit", () => {
  const registry = registryFor(`model:
  services:
    chat:
      instances:
        - name: m
          base-url: "http://127.0.0.1:8000"
          adapter: vllm
          max-concurrency: auto
          max-concurrency-max: 10
        - { name: m, base-url: "http://127.0.0.1:8001", adapter: vllm, max-concurrency: 3 }
`);
  const { services } = registry.snapshot;
  const chat = services.chat.upstreams[0]!;
  const derived = [services.completion, services.messages, services.responses]
    .map((service) => service.upstreams[0]!);
  assert.equal(chat.maxConcurrency, 4);
  chat.concurrency!.overloaded(chat.concurrency!.epoch);
  assert.equal(chat.maxConcurrency, 3);
  for (const upstream of derived) assert.equal(upstream.maxConcurrency, 3, upstream.url);
  assert.equal(services.chat.upstreams[1]!.maxConcurrency, 3);
  assert.equal(services.chat.upstreams[1]!.concurrency, undefined);
  // A new snapshot keeps the limit found.
  assert.equal(registry.refresh().services.chat.upstreams[0]!.maxConcurrency, 3);
});

Deno.test("max-concurrency-min above max-concurrency-max is a config error", () => {
  assert.throws(
    () =>
      registryFor(`model:
  services:
    chat:
      instances:
        - name: m
          base-url: "http://127.0.0.1:8000"
          max-concurrency: auto
          max-concurrency-min: 20
          max-concurrency-max: 10
`),
    /max-concurrency-min 20 is above max-concurrency-max 10/,
  );
});

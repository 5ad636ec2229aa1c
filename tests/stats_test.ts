/**
 * The statistics endpoints over real HTTP, against emulated backends: counts, success rates and
 * latency percentiles after known traffic, reset, refresh, the health of a model and of the
 * providers, the model-list re-read, and who may call them.
 */
import assert from "node:assert/strict";
import type { z } from "@hono/zod-openapi";
import { startOllama, startVllm } from "./fixtures/backends/mod.ts";
import { startFakeBackend } from "./fixtures/fake_backend.ts";
import { eventually } from "./fixtures/gate.ts";
import { gatewayOverBackend, oneService, startGateway } from "./fixtures/gateway.ts";
import { postChat } from "./fixtures/requests.ts";
import {
  ClearCacheSchema,
  LoadBalancingStatsSchema,
  ModelHealthSchema,
  ProvidersHealthSchema,
  ProvidersStatsSchema,
  RefreshSchema,
  ResetSchema,
  StatsSchema,
} from "../src/routes/stats_schemas.ts";

/** GETs or POSTs `path` and reads the answer as `schema` documents it. */
async function call<S extends z.ZodType>(
  url: string,
  path: string,
  schema: S,
  init: RequestInit = {},
): Promise<z.infer<S>> {
  const response = await fetch(`${url}${path}`, init);
  const body = await response.json();
  assert.equal(response.status, 200, JSON.stringify(body));
  return schema.parse(body);
}

async function chat(url: string, fields: Record<string, unknown> = {}): Promise<number> {
  const response = await postChat(url, fields);
  await response.text();
  return response.status;
}

const NO_RETRIES = "server:\n  retries: 0\n";

Deno.test("/v1/stats counts known traffic per model and instance, with plausible percentiles", async () => {
  await using setup = await gatewayOverBackend(
    (url) => oneService("chat", [url], { server: NO_RETRIES }),
    { backend: { stream: { tokens: ["a", "b", "c"], intervalMs: 15 } } },
  );
  const { gateway, backend } = setup;
  for (let i = 0; i < 3; i++) assert.equal(await chat(gateway.url, { stream: true }), 200);
  backend.failWith(500);
  for (let i = 0; i < 2; i++) assert.equal(await chat(gateway.url), 500);
  assert.equal(await chat(gateway.url, { model: "nobody-serves-this" }), 404);

  const stats = await call(gateway.url, "/v1/stats", StatsSchema);
  assert.deepEqual(
    { ...stats.totals, cost_usd: undefined },
    {
      requests: 5,
      succeeded: 3,
      failed: 2,
      success_rate: 0.6,
      in_flight: 0,
      queued: 0,
      cost_usd: undefined,
    },
  );
  const [model] = stats.models;
  assert.ok(model);
  assert.equal(model.model, "m");
  assert.deepEqual([model.requests, model.succeeded, model.failed], [5, 3, 2]);
  assert.equal(model.success_rate, 0.6);
  assert.deepEqual(model.services, ["chat", "completion", "messages", "responses"]);
  const [instance] = stats.instances;
  assert.ok(instance);
  assert.deepEqual([instance.requests, instance.succeeded, instance.failed], [5, 3, 2]);
  assert.equal(instance.provider, `openai ${backend.url}`);
  assert.equal(instance.recent.samples, 3, "the streams' first tokens were measured");

  for (const measured of [model, instance]) {
    const { time_to_first_token_ms: ttft, duration_ms: duration } = measured;
    assert.equal(ttft.samples, 3, "only successful requests are measured");
    assert.equal(duration.samples, 3);
    // Three more events follow the first, 15 ms apart: the whole answer takes 45 ms or more.
    assert.ok(duration.p50! >= 40, `duration p50 ${duration.p50}`);
    assert.ok(ttft.p50! < duration.p50!, `ttft ${ttft.p50} before the end ${duration.p50}`);
    for (const summary of [ttft, duration]) {
      assert.ok(summary.p50! <= summary.p90! && summary.p90! <= summary.p99!);
    }
  }
});

Deno.test("/v1/stats/reset zeroes the counters, percentiles and measured averages", async () => {
  await using setup = await gatewayOverBackend((url) => oneService("chat", [url]));
  const { gateway } = setup;
  for (let i = 0; i < 2; i++) assert.equal(await chat(gateway.url), 200);
  const before = await call(gateway.url, "/v1/stats", StatsSchema);
  assert.equal(before.totals.requests, 2);

  const reset = await call(gateway.url, "/v1/stats/reset", ResetSchema, { method: "POST" });
  const after = await call(gateway.url, "/v1/stats", StatsSchema);
  assert.equal(after.since, reset.since);
  assert.ok(after.since >= before.since);
  assert.deepEqual([after.totals.requests, after.totals.success_rate], [0, null]);
  const [model] = after.models;
  const [instance] = after.instances;
  assert.ok(model && instance);
  assert.deepEqual([model.requests, model.duration_ms.samples, model.duration_ms.p50], [
    0,
    0,
    null,
  ]);
  assert.deepEqual([instance.requests, instance.succeeded, instance.time_to_first_token_ms.p99], [
    0,
    0,
    null,
  ]);
  assert.deepEqual(instance.recent, {
    time_to_first_token_ms: null,
    time_per_output_token_ms: null,
    success_rate: null,
    samples: 0,
  });

  assert.equal(await chat(gateway.url), 200);
  const counted = await call(gateway.url, "/v1/stats", StatsSchema);
  assert.equal(counted.totals.requests, 1, "counting goes on after a reset");
});

Deno.test("/v1/stats/refresh probes every provider now, and reports what it found", async () => {
  const up = await startFakeBackend({ name: "up" });
  await using _up = up;
  const gone = await startFakeBackend({ name: "gone" });
  // Probes an hour apart: only the first, at start, and the refresh's are made.
  await using gateway = await startGateway(`model:
  health-check: { interval: 3600000, timeout: 1000 }
  services:
    chat:
      instances:
        - { name: m, base-url: "${up.url}" }
        - { name: m, base-url: "${gone.url}" }
`);
  await eventually(async () => {
    const health = await call(gateway.url, "/v1/health/providers", ProvidersHealthSchema);
    assert.deepEqual(health.providers.map((provider) => provider.status), ["up", "up"]);
    assert.equal(health.status, "healthy");
  }, 2_000);
  await gone.close();
  assert.equal(up.probes, 1);

  const stale = await call(gateway.url, "/v1/health/providers", ProvidersHealthSchema);
  assert.equal(stale.providers[1]!.status, "up", "no probe has found it gone yet");
  const refreshed = await call(gateway.url, "/v1/stats/refresh", RefreshSchema, {
    method: "POST",
  });
  assert.equal(refreshed.health_probes, 2);
  assert.equal(refreshed.load_reads, 0, "no least-load pool reads load");
  assert.equal(up.probes, 2);
  assert.deepEqual(refreshed.health.providers.map((provider) => provider.status), ["up", "down"]);
  assert.equal(refreshed.health.status, "degraded");
  assert.match(refreshed.health.providers[1]!.reason, /connection refused/);

  const health = await call(gateway.url, "/v1/health/models/m", ModelHealthSchema);
  assert.equal(health.status, "degraded");
  assert.deepEqual([health.instances, health.available_instances], [2, 1]);
  assert.deepEqual(health.details.map((instance) => instance.health), ["up", "down"]);
});

Deno.test("/v1/stats/refresh reads the load now for a least-load pool, as the overview shows", async () => {
  await using vllm = await startVllm({ name: "gpu-1", models: ["qwen"] });
  vllm.setLoad({ running: 1, waiting: 0 });
  // Loads read an hour apart: only the first, at start, and the refresh's are made.
  await using gateway = await startGateway(`model:
  services:
    chat:
      load-balance: { type: least-load, load-interval: 3600000 }
      instances:
        - { name: qwen, base-url: "${vllm.url}", adapter: vllm }
`);
  const loadOf = async () =>
    (await call(gateway.url, "/v1/providers/stats/overview", ProvidersStatsSchema)).providers[0]!
      .load;
  await eventually(async () => assert.equal((await loadOf())?.running, 1), 2_000);
  vllm.setLoad({ running: 5, waiting: 7, kvCacheUsage: 0.5 });
  assert.equal((await loadOf())?.running, 1, "not read again yet");

  const refreshed = await call(gateway.url, "/v1/stats/refresh", RefreshSchema, {
    method: "POST",
  });
  assert.deepEqual([refreshed.health_probes, refreshed.load_reads], [0, 1]);
  const load = await loadOf();
  assert.deepEqual([load?.running, load?.waiting, load?.kv_cache_usage], [5, 7, 0.5]);
  const balancing = await call(
    gateway.url,
    "/v1/load-balancing/statistics",
    LoadBalancingStatsSchema,
  );
  assert.equal(balancing.services[0]!.pools[0]!.instances[0]!.load?.waiting, 7);
});

Deno.test("a retried request counts once for its model, and each attempt on its instance", async () => {
  await using failing = await startFakeBackend({ name: "failing", failStatus: 503 });
  await using working = await startFakeBackend({ name: "working" });
  await using gateway = await startGateway(
    oneService("chat", [failing.url, working.url], { strategy: "round-robin" }),
  );
  assert.equal(await chat(gateway.url), 200);
  const stats = await call(gateway.url, "/v1/stats", StatsSchema);
  const model = stats.models[0]!;
  assert.deepEqual([model.requests, model.succeeded, model.failed], [1, 1, 0]);
  const counts = stats.instances.map((instance) => [
    instance.base_url,
    instance.requests,
    instance.succeeded,
    instance.failed,
    instance.duration_ms.samples,
  ]);
  assert.deepEqual(counts, [[failing.url, 1, 0, 1, 0], [working.url, 1, 1, 0, 1]]);
});

Deno.test("/v1/health/models: a known model's instances; an unknown model is a 404 in OpenAI's shape", async () => {
  await using setup = await gatewayOverBackend((url) => oneService("chat", [url]));
  const { gateway } = setup;
  const known = await call(gateway.url, "/v1/health/models/m", ModelHealthSchema);
  assert.equal(known.model, "m");
  assert.equal(known.status, "healthy");
  assert.deepEqual([known.instances, known.available_instances], [1, 1]);
  assert.deepEqual(known.services, ["chat", "completion", "messages", "responses"]);

  const unknown = await fetch(`${gateway.url}/v1/health/models/${encodeURIComponent("no/such")}`);
  assert.equal(unknown.status, 404);
  assert.deepEqual(await unknown.json(), {
    error: {
      message: 'No instance serves the model "no/such"',
      type: "not_found_error",
      param: "model",
      code: "model_not_found",
    },
  });
});

Deno.test("/v1/load-balancing/statistics and the provider overview show how requests spread", async () => {
  await using a = await startFakeBackend({ name: "a" });
  await using b = await startFakeBackend({ name: "b" });
  await using gateway = await startGateway(
    oneService("chat", [a.url, b.url], { strategy: "round-robin" }),
  );
  for (let i = 0; i < 4; i++) assert.equal(await chat(gateway.url), 200);

  const balancing = await call(
    gateway.url,
    "/v1/load-balancing/statistics",
    LoadBalancingStatsSchema,
  );
  const chatService = balancing.services.find((service) => service.service === "chat");
  assert.ok(chatService);
  assert.equal(chatService.strategy, "round-robin");
  const pool = chatService.pools[0]!;
  assert.equal(pool.model, "m");
  assert.deepEqual(pool.instances.map((instance) => [instance.requests, instance.share]), [
    [2, 0.5],
    [2, 0.5],
  ]);
  const completion = balancing.services.find((service) => service.service === "completion");
  assert.equal(completion?.derived_from, "chat");

  const providers = await call(gateway.url, "/v1/providers/stats/overview", ProvidersStatsSchema);
  assert.deepEqual(
    providers.providers.map((
      provider,
    ) => [provider.base_url, provider.requests, provider.succeeded]),
    [[a.url, 2, 2], [b.url, 2, 2]],
  );
  assert.equal(providers.providers[0]!.duration_ms.samples, 2);
  assert.equal(providers.providers[0]!.success_rate, 1);
});

Deno.test("/v1/models/clear-cache reads the discovered model lists again now", async () => {
  await using ollama = await startOllama({ name: "gpu-1", models: ["llama3.2"] });
  await using gateway = await startGateway(`model:
  discovery: { interval: 3600000 }
  services:
    chat:
      instances:
        - { name: "*", base-url: "${ollama.url}", adapter: ollama, discover: true }
`);
  const served = async () =>
    (await (await fetch(`${gateway.url}/v1/models`)).json()).data.map((m: { id: string }) => m.id);
  await eventually(async () => assert.deepEqual(await served(), ["llama3.2"]), 2_000);
  ollama.setModels(["llama3.2", "qwen3:8b"]);

  const cleared = await call(gateway.url, "/v1/models/clear-cache", ClearCacheSchema, {
    method: "POST",
  });
  assert.equal(cleared.model_lists_read, 1);
  assert.deepEqual(cleared.models, ["llama3.2", "qwen3:8b"]);
  assert.deepEqual(await served(), ["llama3.2", "qwen3:8b"]);
});

const ADMIN_KEY = "sk-admin-0123456789";
const CLIENT_KEY = "sk-client-0123456789";

Deno.test("the statistics take an admin key, not a client's, and only admins reset them", async () => {
  await using backend = await startFakeBackend();
  await using gateway = await startGateway(
    `auth:\n  enabled: true\n  keys: [{ id: client, key: ${CLIENT_KEY} }]\n` +
      oneService("chat", [backend.url]),
    { adminKey: ADMIN_KEY },
  );
  const as = (key: string | undefined): RequestInit =>
    key === undefined ? {} : { headers: { authorization: `Bearer ${key}` } };
  const paths = [
    ["GET", "/v1/stats"],
    ["GET", "/v1/providers/stats/overview"],
    ["GET", "/v1/load-balancing/statistics"],
    ["GET", "/v1/health/models/m"],
    ["GET", "/v1/health/providers"],
    ["POST", "/v1/stats/refresh"],
    ["POST", "/v1/stats/reset"],
    ["POST", "/v1/models/clear-cache"],
  ] as const;
  for (const [method, path] of paths) {
    for (const key of [undefined, CLIENT_KEY]) {
      const refused = await fetch(`${gateway.url}${path}`, { method, ...as(key) });
      assert.equal(refused.status, 401, `${method} ${path} with ${key ?? "no key"}`);
      assert.equal((await refused.json()).error.code, "invalid_api_key");
    }
    const allowed = await fetch(`${gateway.url}${path}`, { method, ...as(ADMIN_KEY) });
    assert.equal(allowed.status, 200, `${method} ${path} with the admin key`);
    await allowed.body?.cancel();
  }
  // JAiRouter's prefix reaches the same routes, behind the same guard.
  const aliased = await fetch(`${gateway.url}/api/v1/stats`, as(ADMIN_KEY));
  assert.equal(aliased.status, 200);
  await aliased.body?.cancel();
  // The client API still takes the client's key, and only it.
  const answer = await postChat(gateway.url, {}, {
    headers: { authorization: `Bearer ${CLIENT_KEY}` },
  });
  assert.equal(answer.status, 200);
  await answer.body?.cancel();
});

Deno.test("without an admin key, the statistics answer only on loopback", async () => {
  await using gateway = await startGateway("model:\n  services: {}\n");
  const local = await fetch(`${gateway.url}/v1/stats`);
  assert.equal(local.status, 200);
  await local.body?.cancel();
  // A request with no loopback peer, as from another host.
  const remote = await gateway.gateway.app.request("/v1/stats", {}, {
    remoteAddr: { hostname: "192.0.2.7" },
  });
  assert.equal(remote.status, 403);
  assert.equal((await remote.json()).error.code, "permission_denied");
});

Deno.test("/openapi.json documents every statistics endpoint", async () => {
  await using gateway = await startGateway("model:\n  services: {}\n");
  const document = await (await fetch(`${gateway.url}/openapi.json`)).json();
  for (
    const [method, path] of [
      ["get", "/v1/stats"],
      ["get", "/v1/providers/stats/overview"],
      ["get", "/v1/load-balancing/statistics"],
      ["get", "/v1/health/models/{model}"],
      ["get", "/v1/health/providers"],
      ["post", "/v1/stats/refresh"],
      ["post", "/v1/stats/reset"],
      ["post", "/v1/models/clear-cache"],
    ] as const
  ) {
    const operation = document.paths[path]?.[method];
    assert.ok(operation, `${method} ${path} is documented`);
    const content = operation.responses["200"].content["application/json"];
    assert.ok(content.schema, `${method} ${path} documents its answer`);
    assert.deepEqual(
      operation.security,
      [{ adminKey: [] }],
      `${method} ${path} takes an admin key`,
    );
  }
  assert.ok(document.components.schemas.Stats.example, "the shapes carry an example");
});

/**
 * What an operator sees of traffic: the Prometheus scrape after a mixed run, one log line per
 * request, the status page and its JSON, and that no secret or client address shows in any.
 */
import assert from "node:assert/strict";
import OpenAI from "openai";
import { Logger } from "../src/logging/logger.ts";
import { type FakeBackend, startFakeBackend } from "./fixtures/fake_backend.ts";
import { eventually, Gate } from "./fixtures/gate.ts";
import { startGateway, type TestGateway } from "./fixtures/gateway.ts";
import { LogLines } from "./fixtures/log_lines.ts";
import { type Scrape, scrape } from "./fixtures/prometheus.ts";

const CLIENT_IP = "203.0.113.77";
const CLIENT_KEY = "sk-client-secret-4242";
const BACKEND_KEY = "sk-backend-secret-9191";

function mixedConfig(good: string, bad: string): string {
  return `
server:
  trusted-proxies: [127.0.0.1]
model:
  retry:
    base-delay: 0
  services:
    chat:
      load-balance:
        type: round-robin
      circuit-breaker:
        failureThreshold: 1
        timeout: 600000
        successThreshold: 1
      instances:
        - name: m
          base-url: ${bad}
          api-key: ${BACKEND_KEY}
        - name: m
          base-url: ${good}
          api-key: ${BACKEND_KEY}
    embedding:
      max-concurrency: 1
      queue-size: 4
      instances:
        - name: e
          base-url: ${good}
    rerank:
      rate-limit:
        algorithm: token-bucket
        capacity: 1
        rate: 0.001
        scope: client-ip
      instances:
        - name: r
          base-url: ${good}
`;
}

interface MixedRun extends AsyncDisposable {
  readonly good: FakeBackend;
  readonly bad: FakeBackend;
  readonly gateway: TestGateway;
  readonly lines: string[];
  readonly client: OpenAI;
}

async function mixedRun(): Promise<MixedRun> {
  const good = await startFakeBackend({ name: "good" });
  const bad = await startFakeBackend({ name: "bad", failStatus: 500 });
  const output = new LogLines();
  const { lines } = output;
  const logger = new Logger({ level: "info", format: "json", output });
  const gateway = await startGateway(mixedConfig(good.url, bad.url), { logger });
  const client = new OpenAI({
    baseURL: `${gateway.url}/v1`,
    apiKey: CLIENT_KEY,
    maxRetries: 0,
    defaultHeaders: { "x-forwarded-for": CLIENT_IP },
  });
  return {
    good,
    bad,
    gateway,
    lines,
    client,
    async [Symbol.asyncDispose]() {
      await gateway.close();
      await good.close();
      await bad.close();
    },
  };
}

/** Runs every kind of request once or twice; returns the scrape after they all finished. */
async function runMix(t: MixedRun): Promise<Scrape> {
  const { client, gateway } = t;
  // The bad instance is picked first, answers 500 and opens its breaker; the retry succeeds.
  const chat = await client.chat.completions.create({
    model: "m",
    messages: [{ role: "user", content: "hi" }],
  });
  assert.equal(chat.usage?.completion_tokens, 3);
  const stream = await client.chat.completions.create({
    model: "m",
    messages: [{ role: "user", content: "hi" }],
    stream: true,
    stream_options: { include_usage: true },
  });
  let text = "";
  for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
  assert.equal(text, "Hello!");
  await client.embeddings.create({ model: "e", input: "x" });
  await assert.rejects(
    client.chat.completions.create({ model: "nope", messages: [] }),
    (error: InstanceType<typeof OpenAI.APIError>) => error.status === 404,
  );
  const rerank = () =>
    fetch(`${gateway.url}/v1/rerank`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-forwarded-for": CLIENT_IP },
      body: JSON.stringify({ model: "r", query: "q", documents: ["a", "b"] }),
    });
  assert.equal((await rerank()).status, 200);
  const limited = await rerank();
  assert.equal(limited.status, 429);
  await limited.body?.cancel();
  // Every request has been written out once its response was delivered.
  return await eventually(async () => {
    const metrics = await scrape(gateway.url);
    assert.equal(metrics.sum("switchyard_requests_total"), 6);
    return metrics;
  }, 2000);
}

Deno.test("a scrape after a mixed run shows every metric with that run's values", async () => {
  await using t = await mixedRun();
  const m = await runMix(t);
  const chat = { service: "chat", model: "m" };
  const good = `m@${t.good.url}/v1/chat/completions`;
  const bad = `m@${t.bad.url}/v1/chat/completions`;

  assert.equal(m.value("switchyard_requests_total", { ...chat, status: "200" }), 2);
  assert.equal(
    m.value("switchyard_requests_total", { service: "chat", model: "_unknown", status: "404" }),
    1,
  );
  assert.equal(
    m.value("switchyard_requests_total", { service: "rerank", model: "_none", status: "429" }),
    1,
    "a request refused before its body was read has no model",
  );
  assert.equal(
    m.value("switchyard_request_duration_seconds_count", { ...chat, status: "200" }),
    2,
  );
  assert.ok(m.value("switchyard_request_duration_seconds_sum", { ...chat, status: "200" })! > 0);
  assert.equal(m.value("switchyard_request_size_bytes_count", chat), 2);
  assert.equal(m.value("switchyard_response_size_bytes_count", chat), 2);
  assert.ok(m.value("switchyard_response_size_bytes_sum", chat)! > 100);

  // Backends: one 500 from the bad instance, two 200s from the good one.
  assert.equal(
    m.value("switchyard_backend_calls_total", { service: "chat", instance: bad, status: "500" }),
    1,
  );
  assert.equal(
    m.value("switchyard_backend_calls_total", { service: "chat", instance: good, status: "200" }),
    2,
  );
  assert.equal(
    m.value("switchyard_backend_call_duration_seconds_count", { service: "chat", instance: good }),
    2,
  );
  assert.equal(m.value("switchyard_retries_total", chat), 1);
  assert.equal(
    m.value("switchyard_loadbalancer_selections_total", {
      service: "chat",
      strategy: "round-robin",
      instance: bad,
    }),
    1,
  );
  assert.equal(
    m.value("switchyard_loadbalancer_selections_total", {
      service: "chat",
      strategy: "round-robin",
      instance: good,
    }),
    2,
  );

  // Resilience: the bad instance's breaker opened once and shows open.
  assert.equal(
    m.value("switchyard_circuit_breaker_transitions_total", {
      instance: bad,
      from: "closed",
      to: "open",
    }),
    1,
  );
  assert.equal(m.value("switchyard_circuit_breaker_state", { service: "chat", instance: bad }), 1);
  assert.equal(m.value("switchyard_circuit_breaker_state", { service: "chat", instance: good }), 0);
  assert.equal(m.value("switchyard_backend_health", { service: "chat", instance: good }), 2);
  assert.equal(m.value("switchyard_active_requests", { service: "chat", instance: good }), 0);
  assert.equal(
    m.value("switchyard_rate_limit_events_total", {
      service: "rerank",
      scope: "client-ip",
      result: "allowed",
    }),
    1,
  );
  assert.equal(
    m.value("switchyard_rate_limit_events_total", {
      service: "rerank",
      scope: "client-ip",
      result: "rejected",
    }),
    1,
  );

  // Streams and tokens: usage from the JSON answer (3 + 3), the stream's last event (3 + 3)
  // and the embedding (2 + 0), read without changing what the client got.
  assert.equal(m.value("switchyard_tokens_total", { ...chat, type: "input" }), 6);
  assert.equal(m.value("switchyard_tokens_total", { ...chat, type: "output" }), 6);
  assert.equal(
    m.value("switchyard_tokens_total", { service: "embedding", model: "e", type: "input" }),
    2,
  );
  assert.equal(m.value("switchyard_time_to_first_token_seconds_count", chat), 1);
  assert.equal(m.value("switchyard_inter_token_latency_seconds_count", chat), 1);
  assert.equal(m.value("switchyard_queue_length", { service: "embedding", model: "e" }), 0);
  assert.equal(m.value("switchyard_config_version"), 1);
  assert.equal(m.value("switchyard_build_info", { version: "0.0.0-test" }), 1);
  // The process's own numbers, as Prometheus client libraries name them.
  assert.ok(m.value("process_resident_memory_bytes")! > 10 * 2 ** 20);
  assert.ok(m.value("switchyard_heap_bytes", { type: "used" })! > 0);
  assert.ok(m.value("process_cpu_seconds_total")! > 0);
  assert.ok(Math.abs(m.value("process_start_time_seconds")! - Date.now() / 1000) < 3600);

  for (const secret of [CLIENT_IP, CLIENT_KEY, BACKEND_KEY]) {
    assert.ok(!m.text.includes(secret), `${secret} is not in the scrape`);
  }
});

Deno.test("the queue's length and wait show while a request waits for a free instance", async () => {
  await using t = await mixedRun();
  const gate = new Gate();
  t.good.holdNext(gate);
  const first = t.client.embeddings.create({ model: "e", input: "first" });
  await t.good.received(1);
  const second = t.client.embeddings.create({ model: "e", input: "second" });
  await eventually(async () => {
    const metrics = await scrape(t.gateway.url);
    assert.equal(metrics.value("switchyard_queue_length", { service: "embedding", model: "e" }), 1);
    assert.equal(
      metrics.value("switchyard_active_requests", {
        service: "embedding",
        instance: `e@${t.good.url}/v1/embeddings`,
      }),
      1,
    );
  }, 2000);
  gate.open();
  await Promise.all([first, second]);
  const metrics = await scrape(t.gateway.url);
  assert.equal(
    metrics.value("switchyard_queue_wait_seconds_count", { service: "embedding", model: "e" }),
    1,
  );
  assert.equal(metrics.value("switchyard_queue_length", { service: "embedding", model: "e" }), 0);
});

interface RequestLine {
  readonly level: string;
  readonly msg: string;
  readonly [field: string]: unknown;
}

Deno.test("each request is one JSON log line with what an operator asks about it", async () => {
  await using t = await mixedRun();
  await runMix(t);
  const requests = t.lines.map((line) => JSON.parse(line) as RequestLine);
  assert.equal(requests.length, 6);
  const first = requests[0]!;
  assert.equal(first.msg, "POST /v1/chat/completions 200");
  assert.equal(first.level, "info");
  assert.equal(first.service, "chat");
  assert.equal(first.model, "m");
  assert.equal(first.instance, `m@${t.good.url}/v1/chat/completions`);
  assert.equal(first.adapter, "normal", "the instance's adapter, as configured or by default");
  assert.equal(first.status, 200);
  assert.equal(first.outcome, "complete");
  assert.equal(first.retries, 1);
  assert.equal(first.client_ip, CLIENT_IP);
  assert.equal(first.tokens_in, 3);
  assert.equal(first.tokens_out, 3);
  assert.equal(typeof first.request_id, "string");
  assert.ok(typeof first.duration_ms === "number" && first.duration_ms >= 0);
  assert.ok(typeof first.ttfb_ms === "number" && first.ttfb_ms <= first.duration_ms);
  assert.ok(typeof first.bytes_in === "number" && first.bytes_in > 0);
  assert.ok(typeof first.bytes_out === "number" && first.bytes_out > 0);
  assert.ok(!Number.isNaN(Date.parse(String(first.time))));

  const streamed = requests[1]!;
  assert.equal(streamed.status, 200);
  assert.ok(typeof streamed.ttft_ms === "number");
  assert.equal(streamed.tokens_out, 3);

  const unknown = requests.find((line) => line.status === 404)!;
  assert.equal(unknown.level, "warn");
  assert.equal(unknown.reason, "model_not_found");
  assert.match(String(unknown.error), /"nope" does not exist/);

  const refused = requests.find((line) => line.status === 429)!;
  assert.equal(refused.level, "warn");
  assert.equal(refused.reason, "rate_limit_exceeded");
  assert.equal(refused.service, "rerank");

  const logged = t.lines.join("\n");
  for (const secret of [CLIENT_KEY, BACKEND_KEY]) {
    assert.ok(!logged.includes(secret), `${secret} is not in the log`);
  }
});

Deno.test("a request line says how the answer ended: cut by the backend, or left by the client", async () => {
  const output = new LogLines();
  const logger = new Logger({ level: "info", format: "json", output });
  const gates = [new Gate(), new Gate(), new Gate()];
  gates[0]!.open();
  await using dropping = await startFakeBackend({ stream: { tokens: ["a", "b"], dropAfter: 1 } });
  await using held = await startFakeBackend({ stream: { tokens: ["a", "b"], gates } });
  await using gateway = await startGateway(
    `model:\n  services:\n    chat:\n      instances:\n` +
      `        - name: cut\n          base-url: ${dropping.url}\n` +
      `        - name: held\n          base-url: ${held.url}\n`,
    { logger },
  );
  const post = (model: string, signal?: AbortSignal) =>
    fetch(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model, stream: true, messages: [] }),
      ...(signal ? { signal } : {}),
    });
  await (await post("cut")).text();
  const controller = new AbortController();
  const leaving = await post("held", controller.signal);
  const reader = leaving.body!.getReader();
  await reader.read();
  controller.abort();
  await reader.read().catch(() => {});
  await eventually(() => {
    assert.equal(gateway.gateway.telemetry.active, 0);
    return Promise.resolve();
  }, 2000);
  for (const gate of gates) gate.open();
  const lines = output.lines.map((line) => JSON.parse(line) as RequestLine);
  const cut = lines.find((line) => line.model === "cut")!;
  assert.equal(cut.status, 200);
  assert.equal(cut.level, "error", "a stream the backend broke off is not an info line");
  assert.equal(cut.outcome, "upstream_broken");
  assert.equal(cut.reason, "upstream_broken_stream");
  assert.equal(cut.msg, "POST /v1/chat/completions 200 upstream_broken");
  const left = lines.find((line) => line.model === "held")!;
  assert.equal(left.outcome, "client_closed");
  assert.equal(left.level, "info");
});

Deno.test("log.level warn writes only refused and failed requests; log.requests off none", async () => {
  await using backend = await startFakeBackend();
  const config = (log: string) =>
    `${log}\nmodel:\n  services:\n    chat:\n      instances:\n` +
    `        - name: m\n          base-url: ${backend.url}\n`;
  for (const [log, expected] of [["log:\n  level: warn", [404]], ["log:\n  requests: false", []]]) {
    const output = new LogLines();
    const level = String(log).includes("warn") ? "warn" : "info";
    const logger = new Logger({ level, format: "json", output });
    const { lines } = output;
    await using gateway = await startGateway(config(String(log)), { logger });
    for (const model of ["m", "nope"]) {
      const response = await fetch(`${gateway.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model, messages: [] }),
      });
      await response.body?.cancel();
    }
    await eventually(() => {
      assert.equal(gateway.gateway.telemetry.active, 0);
      return Promise.resolve();
    }, 2000);
    assert.deepEqual(lines.map((line) => (JSON.parse(line) as RequestLine).status), expected);
  }
});

Deno.test("with metrics.enabled false there is no /metrics", async () => {
  await using backend = await startFakeBackend();
  await using gateway = await startGateway(
    `metrics:\n  enabled: false\nmodel:\n  services:\n    chat:\n      instances:\n` +
      `        - name: m\n          base-url: ${backend.url}\n`,
  );
  const response = await fetch(`${gateway.url}/metrics`);
  assert.equal(response.status, 404);
  await response.body?.cancel();
});

Deno.test("the status page is one self-contained HTML page, and / leads to it", async () => {
  await using backend = await startFakeBackend();
  await using gateway = await startGateway(
    `model:\n  services:\n    chat:\n      instances:\n        - name: m\n` +
      `          base-url: ${backend.url}\n`,
  );
  const root = await fetch(`${gateway.url}/`, { redirect: "manual" });
  assert.equal(root.status, 302);
  assert.equal(root.headers.get("location"), "/status");
  await root.body?.cancel();
  const page = await fetch(`${gateway.url}/status`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get("content-type") ?? "", /^text\/html/);
  const html = await page.text();
  assert.match(html, /\/status\.json/);
  assert.doesNotMatch(html, /(src|href)=["']?(https?:)?\/\//, "no external assets");
  assert.doesNotMatch(html, /@import|url\(\s*["']?https?:/, "no external styles");
});

Deno.test("status.json shows a backend going down within a few probe intervals", async () => {
  await using good = await startFakeBackend({ name: "good" });
  const doomed = await startFakeBackend({ name: "doomed" });
  await using gateway = await startGateway(`
model:
  health-check:
    interval: 100
    timeout: 500
    unhealthy-threshold: 1
    healthy-threshold: 1
  services:
    chat:
      circuit-breaker:
        failureThreshold: 1
        timeout: 600000
      instances:
        - name: m
          base-url: ${good.url}
        - name: m
          base-url: ${doomed.url}
`);
  const overview = async () => await (await fetch(`${gateway.url}/status.json`)).json();
  await eventually(async () => {
    const status = await overview();
    const instances = status.services[0].instances;
    assert.deepEqual(instances.map((i: { health: string }) => i.health), ["up", "up"]);
  }, 3000);
  await doomed.close();
  const status = await eventually(async () => {
    const status = await overview();
    const [up, down] = status.services[0].instances;
    assert.equal(up.health, "up");
    assert.equal(down.health, "down");
    assert.equal(down.available, false);
    assert.match(down.healthReason, /.+/);
    return status;
  }, 3000);
  assert.equal(status.version, "0.0.0-test");
  assert.equal(status.configVersion, 1);
  assert.equal(status.services[0].type, "chat");
  assert.equal(status.services[0].strategy, "random");
  assert.deepEqual(status.totals, { requests: 0, errors: 0, active: 0 });
  assert.deepEqual(status.recentErrors, []);
});

Deno.test("status.json counts requests, latency and the latest failures", async () => {
  await using backend = await startFakeBackend({ name: "failing", failStatus: 503 });
  await using gateway = await startGateway(
    `model:\n  services:\n    chat:\n      retry:\n        count: 0\n      instances:\n` +
      `        - name: m\n          base-url: ${backend.url}\n`,
  );
  const response = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-request-id": "req-failing-1" },
    body: JSON.stringify({ model: "m", messages: [] }),
  });
  assert.equal(response.status, 503);
  await response.body?.cancel();
  const status = await eventually(async () => {
    const status = await (await fetch(`${gateway.url}/status.json`)).json();
    assert.equal(status.totals.requests, 1);
    return status;
  }, 2000);
  assert.equal(status.totals.errors, 1);
  const chat = status.services[0];
  assert.equal(chat.derivedFrom, null);
  assert.equal(status.services[1].type, "completion");
  assert.equal(
    status.services[1].derivedFrom,
    "chat",
    "completions are served by chat's instances",
  );
  assert.equal(chat.requests, 1);
  assert.equal(chat.errors, 1);
  assert.equal(chat.latency.count, 1);
  const instance = chat.instances[0];
  assert.equal(instance.requests, 1);
  assert.equal(instance.failures, 1);
  assert.equal(instance.latency.count, 1);
  assert.equal(instance.lastError.message, "answered 503");
  assert.deepEqual(
    status.recentErrors.map((e: Record<string, unknown>) => [e.requestId, e.status, e.model]),
    [["req-failing-1", 503, "m"]],
  );
});

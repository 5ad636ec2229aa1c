/**
 * Prices and what requests cost: each answered request's cost at its instance's prices, in its
 * log line, in `/metrics` and in the instance's spend; and the `cost` strategy, which sends
 * requests to the cheapest instance that answers fast enough.
 */
import assert from "node:assert/strict";
import { Logger } from "../src/logging/logger.ts";
import { startFakeBackend } from "./fixtures/fake_backend.ts";
import { eventually, Gate } from "./fixtures/gate.ts";
import { startGateway } from "./fixtures/gateway.ts";
import { LogLines } from "./fixtures/log_lines.ts";
import { scrape } from "./fixtures/prometheus.ts";
import { postChat } from "./fixtures/requests.ts";

/** The fake backend reports 3 prompt and 3 completion tokens for each chat answer. */
const ANSWER_COST = (3 * 2 + 3 * 4) / 1_000_000 + 0.001;

function pricedConfig(url: string, extra = ""): string {
  return `${extra}model:
  services:
    chat:
      instances:
        - name: m
          base-url: ${url}
          price: { input: 2, output: 4, request: 0.001 }
`;
}

function near(actual: unknown, expected: number): boolean {
  return typeof actual === "number" && Math.abs(actual - expected) < 1e-12;
}

Deno.test("an answered request's cost shows in its log line, in /metrics and in the instance's spend", async () => {
  await using backend = await startFakeBackend({ name: "priced" });
  const output = new LogLines();
  const logger = new Logger({ level: "info", format: "json", output });
  await using gateway = await startGateway(pricedConfig(backend.url), { logger });
  for (let i = 0; i < 2; i++) {
    const response = await postChat(gateway.url);
    assert.equal(response.status, 200);
    await response.body?.cancel();
  }
  const line = JSON.parse(output.lines[0]!) as Record<string, unknown>;
  assert.ok(near(line.cost_usd, ANSWER_COST), `cost_usd ${line.cost_usd}`);
  const metrics = await scrape(gateway.url);
  const total = metrics.value("switchyard_cost_usd_total", { service: "chat", model: "m" });
  assert.ok(near(total, 2 * ANSWER_COST), `switchyard_cost_usd_total ${total}`);
  const upstream = gateway.gateway.registry.snapshot.services.chat.upstreams[0]!;
  assert.ok(near(upstream.state.spend, 2 * ANSWER_COST), `spend ${upstream.state.spend}`);
});

Deno.test("a failed request costs nothing, and an instance without a price has no cost_usd", async () => {
  await using failing = await startFakeBackend({ name: "failing", failStatus: 500 });
  await using free = await startFakeBackend({ name: "free" });
  const output = new LogLines();
  const logger = new Logger({ level: "info", format: "json", output });
  await using gateway = await startGateway(
    `model:
  services:
    chat:
      instances:
        - name: m
          base-url: ${failing.url}
          price: { input: 2, output: 4, request: 0.001 }
        - name: free
          base-url: ${free.url}
`,
    { logger },
  );
  assert.equal((await postChat(gateway.url)).status, 500);
  const answered = await postChat(gateway.url, { model: "free" });
  assert.equal(answered.status, 200);
  await answered.body?.cancel();
  const lines = output.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  assert.equal(lines.length, 2);
  assert.ok(lines.every((line) => !("cost_usd" in line)));
  assert.equal(gateway.gateway.registry.snapshot.services.chat.upstreams[0]!.state.spend, 0);
});

Deno.test("a priced instance's spend is counted with metrics and request lines off", async () => {
  await using backend = await startFakeBackend({ name: "priced" });
  await using gateway = await startGateway(
    pricedConfig(backend.url, "metrics:\n  enabled: false\nlog:\n  requests: false\n"),
  );
  const response = await postChat(gateway.url);
  assert.equal(response.status, 200);
  await response.body?.cancel();
  const upstream = gateway.gateway.registry.snapshot.services.chat.upstreams[0]!;
  assert.ok(near(upstream.state.spend, ANSWER_COST), `spend ${upstream.state.spend}`);
});

function cheapAndDear(cheap: string, dear: string, maxLatency: number): string {
  return `model:
  services:
    chat:
      load-balance:
        type: cost
        max-latency: ${maxLatency}
      instances:
        - name: m
          base-url: ${dear}
          price: { input: 3, output: 15 }
        - name: m
          base-url: ${cheap}
          price: { input: 0.1, output: 0.2 }
`;
}

async function servedBy(url: string): Promise<string> {
  const response = await postChat(url);
  assert.equal(response.status, 200);
  return (await response.json()).backend;
}

Deno.test("cost: the cheap instance serves while its first token comes within max-latency", async () => {
  await using cheap = await startFakeBackend({ name: "cheap" });
  await using dear = await startFakeBackend({ name: "dear" });
  await using gateway = await startGateway(cheapAndDear(cheap.url, dear.url, 100));
  // Not measured yet, the cheap instance counts as fast enough; its first answer comes 250 ms
  // after the request.
  const slow = new Gate();
  cheap.holdNext(slow);
  const answered = servedBy(gateway.url);
  await cheap.received(1);
  const timer = setTimeout(() => slow.open(), 250);
  try {
    assert.equal(await answered, "cheap");
  } finally {
    clearTimeout(timer);
  }
  // Its time to first token is now over 100 ms: the dearer instance, within it, serves.
  assert.equal(await servedBy(gateway.url), "dear");
  assert.equal(await servedBy(gateway.url), "dear");
  assert.equal(cheap.requests.length, 1);
});

Deno.test("cost: a max-latency of 0 is a config error", async () => {
  await assert.rejects(
    startGateway(cheapAndDear("http://127.0.0.1:1", "http://127.0.0.1:2", 0)),
    /max-latency/,
  );
});

Deno.test("a stream costs the usage its last event reports, or the price per request without it", async () => {
  await using backend = await startFakeBackend({ name: "priced", stream: { tokens: ["a", "b"] } });
  const output = new LogLines();
  const logger = new Logger({ level: "info", format: "json", output });
  await using gateway = await startGateway(pricedConfig(backend.url), { logger });
  const counted = await postChat(gateway.url, {
    stream: true,
    stream_options: { include_usage: true },
  });
  await counted.text();
  const uncounted = await postChat(gateway.url, { stream: true });
  await uncounted.text();
  await eventually(() => Promise.resolve(assert.equal(output.lines.length, 2)), 2000);
  const lines = output.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  const withUsage = lines.find((line) => line.tokens_in !== undefined)!;
  const without = lines.find((line) => line.tokens_in === undefined)!;
  // 3 prompt tokens, 2 generated: one per event.
  assert.ok(near(withUsage.cost_usd, (3 * 2 + 2 * 4) / 1_000_000 + 0.001), `${withUsage.cost_usd}`);
  assert.ok(near(without.cost_usd, 0.001), `${without.cost_usd}`);
});

/**
 * `max-concurrency: auto` against an engine with a hidden capacity: it answers 503 to any
 * request beyond it, and the gateway's limit settles near it.
 */
import assert from "node:assert/strict";
import { parseConfig } from "../src/config/load.ts";
import { startGateway } from "./fixtures/gateway.ts";
import { postChat, serviceStatus } from "./fixtures/requests.ts";

/**
 * An engine that works on at most `capacity` requests, `ms` each, and answers `refusal` (503 by
 * default) beyond.
 */
function startCappedEngine(capacity: number, ms: number, refusal = 503) {
  let inFlight = 0;
  let overloads = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async () => {
    if (inFlight >= capacity) {
      overloads++;
      return Response.json({ error: { message: "Engine is full" } }, { status: refusal });
    }
    inFlight++;
    try {
      await new Promise((resolve) => setTimeout(resolve, ms));
      return Response.json({
        id: "chatcmpl-1",
        object: "chat.completion",
        created: 1,
        model: "m",
        choices: [{
          index: 0,
          message: { role: "assistant", content: "Hello" },
          finish_reason: "stop",
        }],
      });
    } finally {
      inFlight--;
    }
  });
  return {
    url: `http://127.0.0.1:${(server.addr as Deno.NetAddr).port}`,
    get overloads() {
      return overloads;
    },
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

Deno.test("max-concurrency auto settles near an engine's hidden capacity", async () => {
  await using engine = startCappedEngine(3, 30);
  await using gateway = await startGateway(`server:
  retries: 0
model:
  services:
    chat:
      outlier-detection: { enabled: false }
      instances:
        - { name: m, base-url: "${engine.url}", max-concurrency: auto, max-concurrency-max: 32 }
`);
  const limits: number[] = [];
  let overloadsLate = 0;
  for (let round = 0; round < 20; round++) {
    const before = engine.overloads;
    const statuses = await Promise.all(
      Array.from({ length: 12 }, async () => {
        const response = await postChat(gateway.url);
        await response.body?.cancel();
        return response.status;
      }),
    );
    assert.ok(statuses.every((status) => status === 200 || status === 503), `${statuses}`);
    if (round >= 10) overloadsLate += engine.overloads - before;
    const status = await serviceStatus(gateway.url);
    limits.push(status.instances[0]!.maxConcurrency!);
  }
  assert.ok(engine.overloads > 0, "the engine was overloaded at the start");
  // The gateway counts a request until its answer is relayed, a little longer than the engine
  // works on it, and the limit probes upwards between cuts: near 3, not exactly 3.
  // A busy machine's own delays may shrink it for a moment, so the median is what settles.
  const settled = limits.slice(10).sort((a, b) => a - b);
  const median = settled[settled.length / 2]!;
  assert.ok(median >= 2 && median <= 6, `limits ${limits}`);
  // Twelve clients at once would overload it with 9 of each 12 requests without a limit.
  assert.ok(overloadsLate <= 30, `${overloadsLate} overloads in the last ten rounds`);
});

Deno.test("max-concurrency auto keeps its limit across a config reload", async () => {
  // An engine that answers every request 503: each answer cuts the limit, and none grows it.
  await using engine = startCappedEngine(0, 0);
  const config = (max: number) =>
    `model:
  services:
    chat:
      outlier-detection: { enabled: false }
      instances:
        - { name: m, base-url: "${engine.url}", max-concurrency: auto, max-concurrency-max: ${max} }
`;
  await using gateway = await startGateway(config(32) + "server:\n  retries: 0\n");
  for (let i = 0; i < 2; i++) {
    const response = await postChat(gateway.url);
    assert.equal(response.status, 503);
    await response.body?.cancel();
  }
  const cut = (await serviceStatus(gateway.url)).instances[0]!.maxConcurrency!;
  assert.ok(cut < 4, `cut to ${cut}`);
  gateway.gateway.registry.apply(parseConfig(config(31), { source: "reload.yaml" }).config.model);
  assert.equal((await serviceStatus(gateway.url)).instances[0]!.maxConcurrency, cut);
});

Deno.test("max-concurrency auto is cut by each 429 sent after the last cut", async () => {
  await using engine = startCappedEngine(0, 0, 429);
  await using gateway = await startGateway(`server:
  retries: 0
model:
  services:
    chat:
      outlier-detection: { enabled: false }
      instances:
        - { name: m, base-url: "${engine.url}", max-concurrency: auto }
`);
  const limits: (number | null)[] = [];
  for (let i = 0; i < 4; i++) {
    const response = await postChat(gateway.url);
    assert.equal(response.status, 429);
    await response.body?.cancel();
    limits.push((await serviceStatus(gateway.url)).instances[0]!.maxConcurrency);
  }
  // 4 → 3 → 2.25 → 1.69 → 1.27, shown whole.
  assert.deepEqual(limits, [3, 2, 1, 1]);
});

/**
 * An engine that streams, works on at most `capacity` requests at once, `ms` each, and queues
 * the others inside: beyond its capacity, time to first token grows.
 */
function startQueueingEngine(capacity: number, ms: number) {
  let busy = 0;
  const waiting: (() => void)[] = [];
  const chunk = (content: string) =>
    `data: ${
      JSON.stringify({
        id: "chatcmpl-1",
        object: "chat.completion.chunk",
        created: 1,
        model: "m",
        choices: [{ index: 0, delta: { content }, finish_reason: null }],
      })
    }\n\n`;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async () => {
    if (busy >= capacity) await new Promise<void>((resolve) => waiting.push(resolve));
    else busy++;
    await new Promise((resolve) => setTimeout(resolve, ms));
    // The slot passes to the next in line once this answer is sent.
    const next = waiting.shift();
    if (next) next();
    else busy--;
    return new Response(chunk("Hello") + "data: [DONE]\n\n", {
      headers: { "content-type": "text/event-stream" },
    });
  });
  return {
    url: `http://127.0.0.1:${(server.addr as Deno.NetAddr).port}`,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

Deno.test("max-concurrency auto shrinks when time to first token rises as an engine queues", async () => {
  await using engine = startQueueingEngine(2, 30);
  await using gateway = await startGateway(`model:
  services:
    chat:
      instances:
        - { name: m, base-url: "${engine.url}", max-concurrency: auto, max-concurrency-max: 64 }
`);
  const limits: number[] = [];
  for (let round = 0; round < 15; round++) {
    await Promise.all(Array.from({ length: 16 }, async () => {
      const response = await postChat(gateway.url, { stream: true });
      assert.equal(response.status, 200);
      await response.text();
    }));
    limits.push((await serviceStatus(gateway.url)).instances[0]!.maxConcurrency!);
  }
  // Sixteen clients at once; the limit keeps near where the engine's queue starts to grow.
  const settled = limits.slice(5).sort((a, b) => a - b);
  const median = settled[settled.length / 2]!;
  assert.ok(median <= 6, `limits ${limits}`);
});

/**
 * Retries: after a retryable failure before the first byte, back off and try again — on
 * another instance when one exists — as many times as `retry.count` allows; never after the
 * first byte reached the client. A 429 with Retry-After cools its instance down.
 */
import assert from "node:assert/strict";
import { manualClock } from "./fixtures/clock.ts";
import { startFakeBackend } from "./fixtures/fake_backend.ts";
import { startGateway } from "./fixtures/gateway.ts";
import { postChat, serviceStatus } from "./fixtures/requests.ts";

/**
 * Chat model `m` on these backends, round robin, without outlier detection (so only retries
 * decide where requests go), with a `retry` section and extra keys on every instance. JSON is
 * YAML too.
 */
function retryChat(
  urls: readonly string[],
  options: {
    readonly retry?: Record<string, unknown>;
    readonly instance?: Record<string, unknown>;
  } = {},
): string {
  return JSON.stringify({
    model: {
      "outlier-detection": { enabled: false },
      services: {
        chat: {
          "load-balance": { type: "round-robin" },
          ...(options.retry ? { retry: options.retry } : {}),
          instances: urls.map((url) => ({ name: "m", "base-url": url, ...options.instance })),
        },
      },
    },
  });
}

Deno.test("a 429 with Retry-After is retried elsewhere and cools its instance down", async () => {
  await using busy = await startFakeBackend({ name: "busy" });
  await using free = await startFakeBackend({ name: "free" });
  busy.failWith(429, { "retry-after": "30" });
  const clock = manualClock();
  await using gateway = await startGateway(retryChat([busy.url, free.url]), {
    now: clock.now,
    random: () => 0,
  });
  for (let i = 0; i < 4; i++) {
    const response = await postChat(gateway.url);
    assert.equal(response.status, 200);
    assert.equal((await response.json()).backend, "free");
  }
  assert.equal(busy.requests.length, 1, "skipped while it cools down");
  const status = await serviceStatus(gateway.url);
  assert.equal(status.instances[0]?.coolingDownUntil, new Date(clock.now() + 30_000).toISOString());
  assert.equal(status.instances[0]?.available, false);

  busy.failWith(undefined);
  clock.advance(30_000);
  const backends = new Set<string>();
  for (let i = 0; i < 2; i++) backends.add((await (await postChat(gateway.url)).json()).backend);
  assert.ok(backends.has("busy"), "back after Retry-After");
});

Deno.test("a 429 without Retry-After is the backend's answer, passed on", async () => {
  await using busy = await startFakeBackend({ name: "busy", failStatus: 429 });
  await using free = await startFakeBackend({ name: "free" });
  await using gateway = await startGateway(retryChat([busy.url, free.url]));
  const response = await postChat(gateway.url);
  assert.equal(response.status, 429);
  await response.body?.cancel();
  assert.equal(free.requests.length, 0);
});

Deno.test("when every instance cools down, the client gets a 429 with the soonest wait", async () => {
  await using only = await startFakeBackend();
  only.failWith(429, { "retry-after": "7" });
  const clock = manualClock();
  await using gateway = await startGateway(
    retryChat([only.url]),
    { now: clock.now, random: () => 0 },
  );
  const first = await postChat(gateway.url);
  assert.equal(first.status, 429, "the backend's own 429 is passed on");
  assert.equal(first.headers.get("retry-after"), "7");
  await first.body?.cancel();
  clock.advance(2_000);
  const second = await postChat(gateway.url);
  assert.equal(second.status, 429);
  assert.equal(second.headers.get("retry-after"), "5");
  assert.equal((await second.json()).error.code, "rate_limit_exceeded");
  assert.equal(only.requests.length, 1);
});

Deno.test("the only instance is retried after a transient failure", async () => {
  await using only = await startFakeBackend({ failStatus: 503 });
  await using gateway = await startGateway(
    retryChat([only.url], { retry: { count: 1, "base-delay": 0 } }),
  );
  const answer = postChat(gateway.url);
  await only.received(1);
  only.failWith(undefined);
  const response = await answer;
  assert.equal(response.status, 200);
  await response.body?.cancel();
  assert.equal(only.requests.length, 2);
});

Deno.test("retry.count bounds the attempts, and tried instances come again only after the rest", async () => {
  const backends = await Promise.all(
    ["a", "b", "c"].map((name) => startFakeBackend({ name, failStatus: 502 })),
  );
  await using gateway = await startGateway(
    retryChat(backends.map((b) => b.url), { retry: { count: 4, "base-delay": 0 } }),
  );
  const response = await postChat(gateway.url);
  assert.equal(response.status, 502);
  await response.body?.cancel();
  const counts = backends.map((b) => b.requests.length);
  assert.equal(counts.reduce((sum, n) => sum + n, 0), 5, "one attempt and four retries");
  assert.ok(counts.every((n) => n >= 1), `every instance tried before any twice: ${counts}`);
  await Promise.all(backends.map((b) => b.close()));
});

Deno.test("statuses outside retry.statuses are not retried", async () => {
  await using failing = await startFakeBackend({ name: "failing", failStatus: 502 });
  await using healthy = await startFakeBackend({ name: "healthy" });
  await using gateway = await startGateway(
    retryChat([failing.url, healthy.url], { retry: { statuses: [503] } }),
  );
  const response = await postChat(gateway.url);
  assert.equal(response.status, 502);
  await response.body?.cancel();
  assert.equal(healthy.requests.length, 0);
});

Deno.test("a stream that fails after its first byte is never retried or duplicated", async () => {
  await using dropping = await startFakeBackend({
    name: "dropping",
    stream: { tokens: ["one", "two", "three"], dropAfter: 1 },
  });
  await using healthy = await startFakeBackend({ name: "healthy" });
  await using gateway = await startGateway(retryChat([dropping.url, healthy.url]));
  const response = await postChat(gateway.url, { stream: true });
  assert.equal(response.status, 200);
  const text = await response.text();
  const events = text.split("\n\n").filter((event) => event.trim() !== "");
  assert.equal(events.length, 2, "the one event sent, then the error that ended the stream");
  assert.match(events[0]!, /"one"/);
  assert.match(events[1]!, /^event: error\ndata: .*"code":"upstream_broken_stream"/);
  assert.equal(healthy.requests.length, 0, "no second instance streams the answer again");
});

Deno.test("backoff waits with full jitter between attempts", async () => {
  await using first = await startFakeBackend({ name: "first", failStatus: 503 });
  await using second = await startFakeBackend({ name: "second" });
  // random() = 0.5 with base 200: the first retry waits 100 ms of a possible 200.
  await using gateway = await startGateway(
    retryChat([first.url, second.url], { retry: { "base-delay": 200 } }),
    { random: () => 0.5 },
  );
  const started = performance.now();
  const response = await postChat(gateway.url);
  const elapsed = performance.now() - started;
  assert.equal(response.status, 200);
  await response.body?.cancel();
  assert.ok(elapsed >= 95, `waited ${elapsed} ms before the retry`);
});

Deno.test("a failed answer frees its instance's slot, so a capped instance can be retried", async () => {
  await using only = await startFakeBackend({ failStatus: 500 });
  await using gateway = await startGateway(
    retryChat([only.url], {
      retry: { count: 2, "base-delay": 0 },
      instance: { "max-concurrency": 1 },
    }),
  );
  const response = await postChat(gateway.url);
  assert.equal(response.status, 500);
  await response.body?.cancel();
  assert.equal(only.requests.length, 3, "one attempt and two retries on the one instance");
  const status = await serviceStatus(gateway.url);
  assert.equal(status.instances[0]?.activeRequests, 0);
});

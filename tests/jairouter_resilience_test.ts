/**
 * JAiRouter's example config, unchanged but for the backend address, does what its limiter,
 * breaker and fallback keys say.
 */
import assert from "node:assert/strict";
import { manualClock } from "./fixtures/clock.ts";
import { startFakeBackend } from "./fixtures/fake_backend.ts";
import { startGateway } from "./fixtures/gateway.ts";
import { postChat, serviceStatus } from "./fixtures/requests.ts";

const example = await Deno.readTextFile(
  new URL("../config/examples/jairouter.yaml", import.meta.url),
);

function jairouterAt(url: string): string {
  // Both of its servers, 172.16.30.6 and .7, become the one fake backend.
  return example.replaceAll(/http:\/\/172\.16\.30\.[67]:9090/g, url);
}

const CHAT_MODEL = "qwen3:1.7B";

Deno.test("JAiRouter's example: the chat service's limit, and an instance's own", async () => {
  await using backend = await startFakeBackend();
  const clock = manualClock();
  await using gateway = await startGateway(jairouterAt(backend.url), { now: clock.now });
  for (let i = 0; i < 100; i++) {
    const response = await postChat(gateway.url, { model: CHAT_MODEL });
    assert.equal(response.status, 200);
    await response.body?.cancel();
    if (i === 0) {
      // The tightest limit binding the request: chat's 100 with 10/s, not the global 1000.
      assert.equal(response.headers.get("ratelimit-policy"), `"service";q=100;w=10`);
      assert.equal(response.headers.get("x-ratelimit-remaining-requests"), "99");
    }
  }
  const refused = await postChat(gateway.url, { model: CHAT_MODEL });
  assert.equal(refused.status, 429);
  assert.equal(refused.headers.get("retry-after"), "1");
  await refused.body?.cancel();
  const byPath = Object.groupBy(backend.requests, (request) => request.path);
  assert.equal(byPath["/v1/chat/completions"]?.length, 50, "the instance limit of 50 held");
  assert.equal(byPath["/v1-openai/chat/completions"]?.length, 50, "the rest went to the other");
});

Deno.test("JAiRouter's example: breakers open after 5 failures, default fallback answers 503", async () => {
  await using backend = await startFakeBackend();
  const clock = manualClock();
  await using gateway = await startGateway(jairouterAt(backend.url), {
    now: clock.now,
    random: () => 0,
  });
  backend.failWith(500);
  for (let i = 0; i < 4; i++) {
    const response = await postChat(gateway.url, { model: CHAT_MODEL });
    assert.equal(response.status, 503);
    const { error } = await response.json();
    assert.equal(error.code, "service_unavailable");
    assert.match(error.message, /Model "qwen3:1.7B" is unavailable/);
  }
  const status = await serviceStatus(gateway.url);
  for (const instance of status.instances) {
    assert.equal(instance.breaker?.status, "open", instance.id);
  }
  const sent = backend.requests.length;
  assert.equal(sent, 10, "five failures on each of the two instances");
  assert.equal((await postChat(gateway.url, { model: CHAT_MODEL })).status, 503);
  assert.equal(backend.requests.length, sent, "nothing reaches an open breaker");

  // After the breaker's 60 s, probes go through; two successes close it again.
  backend.failWith(undefined);
  clock.advance(60_000);
  for (let i = 0; i < 4; i++) {
    const response = await postChat(gateway.url, { model: CHAT_MODEL });
    assert.equal(response.status, 200);
    await response.body?.cancel();
  }
  const after = await serviceStatus(gateway.url);
  for (const instance of after.instances) {
    assert.equal(instance.breaker?.status, "closed", instance.id);
  }
});

Deno.test("JAiRouter's example: rerank falls back to the cached answer to the same request", async () => {
  await using backend = await startFakeBackend();
  const clock = manualClock();
  await using gateway = await startGateway(jairouterAt(backend.url), { now: clock.now });
  const rerank = (query: string) =>
    fetch(`${gateway.url}/v1/rerank`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "bge-reranker-v2-m3", query, documents: ["a", "b"] }),
    });
  const fresh = await rerank("gpu");
  assert.equal(fresh.status, 200);
  const answer = await fresh.json();

  backend.failWith(500);
  const cached = await rerank("gpu");
  assert.equal(cached.status, 200);
  assert.equal(cached.headers.get("x-switchyard-fallback"), "cache");
  assert.deepEqual(await cached.json(), answer);

  const other = await rerank("cpu");
  assert.equal(other.status, 503, "never another request's answer");
  await other.body?.cancel();

  clock.advance(600_000);
  const expired = await rerank("gpu");
  assert.equal(expired.status, 503, "cache-ttl is 10 minutes");
  await expired.body?.cancel();
});

/**
 * What answers when every instance of a model fails: a clear 503, the last answer to the same
 * request from the cache (never another client's), or a fallback model — the cache first.
 */
import assert from "node:assert/strict";
import { startFakeBackend } from "./fixtures/fake_backend.ts";
import { startGateway } from "./fixtures/gateway.ts";
import { errorAnswer } from "./fixtures/openai_answers.ts";
import { closedPortUrl } from "./fixtures/ports.ts";
import { postChat } from "./fixtures/requests.ts";
import { manualClock } from "./fixtures/clock.ts";

/** POSTs a JSON body to `path` with extra headers. */
function post(
  baseUrl: string,
  path: string,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(`${baseUrl}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

/** Asserts an OpenAI-shaped 503 `service_unavailable` naming `model`; returns its message. */
async function assertUnavailable(response: Response, model: string): Promise<string> {
  const text = await response.text();
  assert.equal(response.status, 503, text);
  assert.match(response.headers.get("content-type") ?? "", /application\/json/);
  assert.match(response.headers.get("retry-after") ?? "", /^\d+$/, "a Retry-After in seconds");
  assert.equal(response.headers.get("x-switchyard-fallback"), null, "not a cached answer");
  const { error } = JSON.parse(text);
  assert.deepEqual(Object.keys(error).toSorted(), ["code", "message", "param", "type"]);
  assert.equal(error.code, "service_unavailable");
  assert.equal(error.param, null);
  assert.equal(typeof error.type, "string");
  assert.ok(error.message.includes(`"${model}"`), `the message names the model: ${error.message}`);
  assert.doesNotMatch(error.message, /127\.0\.0\.1/, "the backend's address is not revealed");
  return error.message;
}

Deno.test("with the default fallback on, instances answering 500 give a clear 503", async () => {
  await using first = await startFakeBackend({ name: "first", failStatus: 500 });
  await using second = await startFakeBackend({ name: "second", failStatus: 500 });
  await using gateway = await startGateway(`
server:
  retries: 1
model:
  fallback:
    enabled: true
    strategy: default
  services:
    chat:
      load-balance:
        type: round-robin
      instances:
        - name: m
          base-url: ${first.url}
        - name: m
          base-url: ${second.url}
`);
  await assertUnavailable(await postChat(gateway.url), "m");
  assert.equal(first.requests.length, 1);
  assert.equal(second.requests.length, 1);
});

Deno.test("with the default fallback on, instances that cannot be reached give a clear 503", async () => {
  await using gateway = await startGateway(`
model:
  fallback:
    enabled: true
    strategy: default
  services:
    embedding:
      instances:
        - name: e
          base-url: ${closedPortUrl()}
        - name: e
          base-url: ${closedPortUrl()}
`);
  const response = await post(gateway.url, "/v1/embeddings", { model: "e", input: "x" });
  await assertUnavailable(response, "e");
});

Deno.test("a fallback section with enabled: false passes the last backend error on", async () => {
  await using failing = await startFakeBackend({ name: "failing", failStatus: 500 });
  await using gateway = await startGateway(`
server:
  retries: 0
model:
  fallback:
    enabled: false
    strategy: default
  services:
    chat:
      instances:
        - name: m
          base-url: ${failing.url}
`);
  const response = await postChat(gateway.url);
  assert.equal(response.status, 500);
  assert.equal(await response.text(), errorAnswer(500, "failing"));
});

/** A service answering from its cache for `ttl` ms, and not retrying, on the given clock. */
function cachedService(service: string, model: string, url: string, ttl: number): string {
  return `model:
  services:
    ${service}:
      retry:
        count: 0
      fallback:
        strategy: cache
        cache-size: 10
        cache-ttl: ${ttl}
      instances:
        - name: ${model}
          base-url: ${url}
`;
}

Deno.test("the cache answers a failed request with the last answer to the same request", async () => {
  await using backend = await startFakeBackend({ name: "embedder" });
  const clock = manualClock();
  await using gateway = await startGateway(
    cachedService("embedding", "e", backend.url, 60_000),
    { now: clock.now },
  );
  const x = { model: "e", input: ["the same request"] };
  const alice = { authorization: "Bearer sk-alice" };
  const first = await post(gateway.url, "/v1/embeddings", x, alice);
  assert.equal(first.status, 200);
  assert.equal(first.headers.get("x-switchyard-fallback"), null);
  const answer = await first.json();
  assert.equal(answer.backend, "embedder");

  backend.failWith(500);
  clock.advance(2_500);
  const cached = await post(gateway.url, "/v1/embeddings", x, alice);
  assert.equal(cached.status, 200);
  assert.equal(cached.headers.get("x-switchyard-fallback"), "cache");
  assert.equal(cached.headers.get("age"), "2", "whole seconds since the answer was stored");
  assert.match(cached.headers.get("content-type") ?? "", /application\/json/);
  assert.deepEqual(await cached.json(), answer);
  assert.equal(backend.requests.length, 2, "the backend was asked first");

  const y = { model: "e", input: ["never answered"] };
  await assertUnavailable(await post(gateway.url, "/v1/embeddings", y, alice), "e");
});

Deno.test("a cached answer only ever goes to the client with the same key", async () => {
  await using backend = await startFakeBackend({ name: "chatter" });
  const clock = manualClock();
  await using gateway = await startGateway(
    cachedService("chat", "m", backend.url, 60_000),
    { now: clock.now },
  );
  const x = { model: "m", messages: [{ role: "user", content: "a secret question" }] };
  const first = await post(gateway.url, "/v1/chat/completions", x, {
    authorization: "Bearer sk-alice",
  });
  assert.equal(first.status, 200);
  const answer = await first.json();
  backend.failWith(500);

  for (
    const other of [
      { authorization: "Bearer sk-bob" },
      { "x-api-key": "sk-bob" },
      {},
    ] as Record<string, string>[]
  ) {
    const response = await post(gateway.url, "/v1/chat/completions", x, other);
    await assertUnavailable(response, "m");
  }
  const same = await post(gateway.url, "/v1/chat/completions", x, {
    authorization: "Bearer sk-alice",
  });
  assert.equal(same.status, 200);
  assert.equal(same.headers.get("x-switchyard-fallback"), "cache");
  assert.deepEqual(await same.json(), answer);
});

Deno.test("an answer from the cache is an X-API-Key client's own as well", async () => {
  await using backend = await startFakeBackend({ name: "reranker" });
  await using gateway = await startGateway(cachedService("rerank", "r", backend.url, 60_000));
  const x = { model: "r", query: "q", documents: ["a", "b"] };
  const first = await post(gateway.url, "/v1/rerank", x, { "x-api-key": "sk-carol" });
  assert.equal(first.status, 200);
  const answer = await first.json();
  backend.failWith(500);
  await assertUnavailable(
    await post(gateway.url, "/v1/rerank", x, { "x-api-key": "sk-dave" }),
    "r",
  );
  const same = await post(gateway.url, "/v1/rerank", x, { "x-api-key": "sk-carol" });
  assert.equal(same.status, 200);
  assert.equal(same.headers.get("x-switchyard-fallback"), "cache");
  assert.deepEqual(await same.json(), answer);
});

Deno.test("a streamed request is never answered from the cache", async () => {
  await using backend = await startFakeBackend({ name: "streamer" });
  await using gateway = await startGateway(cachedService("chat", "m", backend.url, 60_000));
  const streamed = await postChat(gateway.url, { stream: true });
  assert.equal(streamed.status, 200);
  assert.match(streamed.headers.get("content-type") ?? "", /text\/event-stream/);
  assert.match(await streamed.text(), /\[DONE\]/);

  backend.failWith(500);
  await assertUnavailable(await postChat(gateway.url, { stream: true }), "m");
  assert.equal(backend.requests.length, 2);
});

Deno.test("a cached answer is served until its cache-ttl has passed, not at it", async () => {
  await using backend = await startFakeBackend({ name: "chatter" });
  const clock = manualClock();
  await using gateway = await startGateway(
    cachedService("chat", "m", backend.url, 10_000),
    { now: clock.now },
  );
  const first = await postChat(gateway.url);
  assert.equal(first.status, 200);
  const answer = await first.json();
  backend.failWith(500);

  clock.advance(9_999);
  const lastMoment = await postChat(gateway.url);
  assert.equal(lastMoment.status, 200);
  assert.equal(lastMoment.headers.get("x-switchyard-fallback"), "cache");
  assert.equal(lastMoment.headers.get("age"), "9");
  assert.deepEqual(await lastMoment.json(), answer);

  clock.advance(1);
  await assertUnavailable(await postChat(gateway.url), "m");
});

/** Chat models `a` and `b` on their own backends, `b` the fallback of every model. */
function twoModels(a: string, b: string, fallback: string): string {
  return `model:
  services:
    chat:
      retry:
        count: 0
      fallback:
${fallback}
      instances:
        - name: a
          base-url: ${a}
        - name: b
          base-url: ${b}
`;
}

Deno.test("a fallback model answers the same request, renamed, when every instance fails", async () => {
  await using failing = await startFakeBackend({ name: "failing", failStatus: 500 });
  await using healthy = await startFakeBackend({ name: "healthy" });
  await using gateway = await startGateway(
    twoModels(failing.url, healthy.url, "        models: [b]"),
  );
  const tools = [{
    type: "function",
    function: { name: "lookup", parameters: { type: "object", properties: {} } },
  }];
  const sent = {
    model: "a",
    messages: [{ role: "user", content: "Hi" }],
    temperature: 0.25,
    tools,
    custom_field: 1,
  };
  const response = await postChat(gateway.url, sent);
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("x-switchyard-fallback-model"), "b");
  const answer = await response.json();
  assert.equal(answer.backend, "healthy");
  assert.equal(answer.model, "b");
  assert.equal(failing.requests.length, 1, "model a was tried once");
  assert.equal(healthy.requests.length, 1);
  const received = JSON.parse(new TextDecoder().decode(healthy.requests[0]!.body));
  assert.deepEqual(received, { ...sent, model: "b" }, "only the model changed");
  assert.match(healthy.requests[0]!.headers.get("content-type") ?? "", /application\/json/);

  healthy.failWith(500);
  const message = await assertUnavailable(await postChat(gateway.url, sent), "a");
  assert.match(message, /\bb\b/, "the fallback models are named too");
});

Deno.test("a cached answer to the same request comes before a fallback model", async () => {
  await using first = await startFakeBackend({ name: "first" });
  await using spare = await startFakeBackend({ name: "spare" });
  await using gateway = await startGateway(
    twoModels(first.url, spare.url, "        strategy: cache\n        models: [b]"),
  );
  const x = { model: "a", messages: [{ role: "user", content: "cached" }] };
  const original = await postChat(gateway.url, x);
  assert.equal(original.status, 200);
  const answer = await original.json();
  assert.equal(answer.backend, "first");

  first.failWith(500);
  const cached = await postChat(gateway.url, x);
  assert.equal(cached.status, 200);
  assert.equal(cached.headers.get("x-switchyard-fallback"), "cache");
  assert.equal(cached.headers.get("x-switchyard-fallback-model"), null);
  assert.deepEqual(await cached.json(), answer);
  assert.equal(spare.requests.length, 0, "the fallback model was not asked");

  const y = { model: "a", messages: [{ role: "user", content: "never asked before" }] };
  const fallen = await postChat(gateway.url, y);
  assert.equal(fallen.status, 200);
  assert.equal(fallen.headers.get("x-switchyard-fallback-model"), "b");
  assert.equal(fallen.headers.get("x-switchyard-fallback"), null);
  assert.equal((await fallen.json()).backend, "spare");
  assert.equal(spare.requests.length, 1);
});

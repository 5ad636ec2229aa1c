/**
 * `GET /admin/metrics/history` over HTTP: the requests a client sends appear in the last bucket,
 * failures and refusals apart, per service on request; admins of every role may read it.
 */
import assert from "node:assert/strict";
import { startFakeBackend } from "./fixtures/fake_backend.ts";
import { eventually } from "./fixtures/gate.ts";
import { startGateway } from "./fixtures/gateway.ts";

const VIEWER = { authorization: "Bearer sk-viewer" };
/** The gateway's clock: 4 s into a bucket of ten. */
const NOW = 1_800_000_004_000;

interface History {
  service: string | null;
  start: string;
  bucket_seconds: number;
  last_bucket_seconds: number;
  requests_per_second: number[];
  errors_per_second: number[];
  rate_limited_per_second: number[];
  output_tokens_per_second: number[];
  time_to_first_token_ms: { mean: (number | null)[]; p50: (number | null)[] };
  inter_token_latency_ms: { mean: (number | null)[] };
  queue_length: { mean: (number | null)[]; max: (number | null)[] };
}

async function setup() {
  const streamer = await startFakeBackend({
    name: "streamer",
    stream: { tokens: ["a", "b", "c", "d"], intervalMs: 5 },
  });
  const failing = await startFakeBackend({ name: "failing", failStatus: 500 });
  const gateway = await startGateway(
    JSON.stringify({
      admin: { keys: [{ id: "watcher", key: "sk-viewer", role: "viewer" }] },
      server: { retries: 0 },
      model: {
        services: {
          chat: {
            instances: [{ name: "m", "base-url": streamer.url }],
            "rate-limit": { algorithm: "token-bucket", capacity: 3, rate: 0.001 },
          },
          embedding: { instances: [{ name: "e", "base-url": failing.url }] },
        },
      },
    }),
    { now: () => NOW },
  );
  return {
    gateway,
    async history(query = ""): Promise<History> {
      const response = await fetch(`${gateway.url}/admin/metrics/history${query}`, {
        headers: VIEWER,
      });
      assert.equal(response.status, 200);
      return await response.json();
    },
    async [Symbol.asyncDispose]() {
      await gateway.close();
      await streamer.close();
      await failing.close();
    },
  };
}

function chat(url: string, stream: boolean) {
  return fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "m", stream, messages: [{ role: "user", content: "hi" }] }),
  });
}

Deno.test("the requests sent appear in the current bucket, errors and 429s apart", async () => {
  await using t = await setup();
  const empty = await t.history();
  assert.equal(empty.bucket_seconds, 10);
  assert.equal(empty.requests_per_second.length, 360);
  assert.equal(empty.last_bucket_seconds, 4);
  assert.equal(empty.start, new Date(NOW - 4000 - 359 * 10_000).toISOString());
  assert.ok(empty.requests_per_second.every((rate) => rate === 0));

  for (const stream of [true, true, false]) {
    const answer = await chat(t.gateway.url, stream);
    assert.equal(answer.status, 200);
    await answer.text();
  }
  const refused = await chat(t.gateway.url, false);
  assert.equal(refused.status, 429);
  await refused.body?.cancel();
  const failed = await fetch(`${t.gateway.url}/v1/embeddings`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "e", input: "x" }),
  });
  assert.ok(failed.status >= 500, `status ${failed.status}`);
  await failed.body?.cancel();

  // Five requests in the 4 s the bucket has run.
  const history = await eventually(async () => {
    const history = await t.history();
    assert.equal(history.requests_per_second.at(-1), 5 / 4);
    return history;
  }, 2000);
  assert.equal(history.errors_per_second.at(-1), 1 / 4);
  assert.equal(history.rate_limited_per_second.at(-1), 1 / 4);
  // Four tokens a stream, counted from its events; the answer not streamed reports its own.
  assert.ok(history.output_tokens_per_second.at(-1)! >= 8 / 4);
  assert.ok(history.time_to_first_token_ms.mean.at(-1)! > 0);
  assert.ok(history.inter_token_latency_ms.mean.at(-1)! > 0);
  assert.equal(history.requests_per_second.slice(0, -1).reduce((a, b) => a + b), 0);

  const chat_ = await t.history("?service=chat");
  assert.equal(chat_.service, "chat");
  assert.equal(chat_.requests_per_second.at(-1), 4 / 4);
  assert.equal(chat_.errors_per_second.at(-1), 0);
  const embedding = await t.history("?service=embedding");
  assert.equal(embedding.errors_per_second.at(-1), 1 / 4);
  const rerank = await t.history("?service=rerank");
  assert.equal(rerank.requests_per_second.at(-1), 0);
});

Deno.test("the history needs an admin key, and names an unknown service", async () => {
  await using t = await setup();
  const anonymous = await fetch(`${t.gateway.url}/admin/metrics/history`);
  assert.equal(anonymous.status, 401);
  await anonymous.body?.cancel();

  const unknown = await fetch(`${t.gateway.url}/admin/metrics/history?service=nope`, {
    headers: VIEWER,
  });
  assert.equal(unknown.status, 400);
  const { error } = await unknown.json();
  assert.equal(error.param, "service");
  assert.match(error.message, /No service "nope": use one of chat, /);
  assert.equal(error.type, "invalid_request_error");

  const documented = await (await fetch(`${t.gateway.url}/openapi.json`)).json();
  assert.ok(documented.paths["/admin/metrics/history"]?.get);
});

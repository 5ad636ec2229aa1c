import assert from "node:assert/strict";
import { BUCKET_COUNT, BUCKET_MS, HistoryRing, type SettledRequest } from "./history_ring.ts";
import { MetricsHistory } from "./metrics_history.ts";

const OK: SettledRequest = {
  status: 200,
  failed: false,
  firstChunk: undefined,
  interTokenLatency: undefined,
  outputTokens: 0,
};

/** A clock at the start of a bucket, far from zero. */
const T0 = 1_000 * BUCKET_MS;

Deno.test("a bucket counts requests, failures and 429s per second of the bucket", () => {
  const ring = new HistoryRing(T0);
  ring.add(T0 + 1000, OK);
  ring.add(T0 + 2000, { ...OK, status: 503, failed: true });
  ring.add(T0 + 3000, { ...OK, status: 429 });
  ring.add(T0 + 3000, { ...OK, outputTokens: 40 });
  const open = ring.read(T0 + 4000);
  assert.equal(open.requestsPerSecond.length, BUCKET_COUNT);
  assert.equal(open.start, T0 - (BUCKET_COUNT - 1) * BUCKET_MS);
  // The open bucket's rates are over the 4 s it has run.
  assert.equal(open.lastBucketSeconds, 4);
  assert.equal(open.requestsPerSecond.at(-1), 1);
  assert.equal(open.errorsPerSecond.at(-1), 0.25);
  assert.equal(open.rateLimitedPerSecond.at(-1), 0.25);
  assert.equal(open.outputTokensPerSecond.at(-1), 10);
  assert.equal(open.requestsPerSecond.at(-2), 0);

  // Once closed, over the whole bucket.
  const closed = ring.read(T0 + BUCKET_MS + 500);
  assert.equal(closed.requestsPerSecond.at(-2), 0.4);
  assert.equal(closed.errorsPerSecond.at(-2), 0.1);
  assert.equal(closed.requestsPerSecond.at(-1), 0);
  assert.equal(closed.start, T0 - (BUCKET_COUNT - 2) * BUCKET_MS);
});

Deno.test("time to first token and inter-token latency: mean, p50 and p95 of a bucket", () => {
  const ring = new HistoryRing(T0);
  for (let i = 1; i <= 20; i++) {
    ring.add(T0, { ...OK, firstChunk: i * 10, interTokenLatency: i });
  }
  // A failed stream and an answer not streamed take no part.
  ring.add(T0, { ...OK, status: 502, failed: true, firstChunk: 5000, interTokenLatency: 500 });
  ring.add(T0, OK);
  const open = ring.read(T0 + 1);
  assert.equal(open.timeToFirstToken.mean.at(-1), 105);
  assert.ok(Math.abs(open.timeToFirstToken.p50.at(-1)! - 100) <= 5);
  assert.ok(Math.abs(open.timeToFirstToken.p95.at(-1)! - 190) <= 10);
  assert.equal(open.interTokenLatency.mean.at(-1), 10.5);
  assert.equal(open.timeToFirstToken.mean.at(-2), null);

  // Closing the bucket keeps its values and starts the next empty.
  const later = ring.read(T0 + BUCKET_MS);
  assert.equal(later.timeToFirstToken.mean.at(-2), 105);
  assert.ok(Math.abs(later.interTokenLatency.p95.at(-2)! - 19) <= 1);
  assert.equal(later.timeToFirstToken.mean.at(-1), null);
});

Deno.test("queue samples: their mean and most per bucket, none where none was taken", () => {
  const ring = new HistoryRing(T0);
  ring.sampleQueue(T0, 2);
  ring.sampleQueue(T0 + 1000, 6);
  ring.sampleQueue(T0 + 2 * BUCKET_MS, 1);
  const window = ring.read(T0 + 2 * BUCKET_MS + 1);
  assert.deepEqual(window.queueMean.slice(-3), [4, null, 1]);
  assert.deepEqual(window.queueMax.slice(-3), [6, null, 1]);
});

Deno.test("buckets older than an hour are forgotten, however long nothing came", () => {
  const ring = new HistoryRing(T0);
  ring.add(T0, { ...OK, firstChunk: 50 });
  ring.sampleQueue(T0, 3);
  const hourLater = ring.read(T0 + (BUCKET_COUNT - 1) * BUCKET_MS);
  assert.equal(hourLater.requestsPerSecond[0], 0.1, "still the oldest bucket");
  const past = ring.read(T0 + BUCKET_COUNT * BUCKET_MS);
  assert.equal(past.requestsPerSecond.reduce((a, b) => a + b), 0);
  assert.ok(past.timeToFirstToken.mean.every((value) => value === null));
  assert.ok(past.queueMean.every((value) => value === null));

  ring.add(T0 + 10 * BUCKET_COUNT * BUCKET_MS, OK);
  const muchLater = ring.read(T0 + 10 * BUCKET_COUNT * BUCKET_MS);
  assert.equal(muchLater.requestsPerSecond.filter((rate) => rate > 0).length, 1);
});

Deno.test("the history keeps every request, and each service's apart", () => {
  let now = T0;
  const history = new MetricsHistory(() => now);
  history.finished({ ...OK, service: "chat" });
  history.finished({ ...OK, service: "chat" });
  history.finished({ ...OK, service: "embedding", status: 500, failed: true });
  history.sampleQueues(new Map([["chat", 4]]));
  now += BUCKET_MS;
  assert.equal(history.read().requestsPerSecond.at(-2), 0.3);
  assert.equal(history.read().errorsPerSecond.at(-2), 0.1);
  assert.equal(history.read().queueMax.at(-2), 4);
  assert.equal(history.read("chat").requestsPerSecond.at(-2), 0.2);
  assert.equal(history.read("chat").errorsPerSecond.at(-2), 0);
  assert.equal(history.read("embedding").queueMax.at(-2), 0);
  assert.equal(history.read("embedding").errorsPerSecond.at(-2), 0.1);
  assert.equal(history.read("rerank").requestsPerSecond.at(-2), 0, "no request yet");
});

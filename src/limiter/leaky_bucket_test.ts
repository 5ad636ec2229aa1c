import assert from "node:assert/strict";
import { leakyBucket } from "./leaky_bucket.ts";
import type { Decision, Limiter, LimiterSettings } from "./types.ts";

const SETTINGS: LimiterSettings = {
  algorithm: "leaky-bucket",
  capacity: 3,
  rate: 2.5,
  window: 1_000,
  warmUpPeriod: 0,
  coldFactor: 3,
};

function admitted(delay: number, remaining: number, reset: number): Decision {
  return { allowed: true, delay, remaining, reset, retryAfter: 0 };
}

function refused(retryAfter: number, reset: number): Decision {
  return { allowed: false, delay: 0, remaining: 0, reset, retryAfter };
}

/** Acquires every ms from `from` to `to` inclusive, returning when each admitted one goes on. */
function saturate(bucket: Limiter, from: number, to: number): number[] {
  const releases: number[] = [];
  for (let now = from; now <= to; now++) {
    const decision = bucket.acquire(now);
    if (decision.allowed) releases.push(now + decision.delay);
  }
  return releases;
}

Deno.test("an empty bucket admits capacity requests at once, each one interval later", () => {
  const bucket = leakyBucket(SETTINGS, 0);
  assert.deepEqual(bucket.acquire(0), admitted(0, 2, 400));
  assert.deepEqual(bucket.acquire(0), admitted(400, 1, 800));
  assert.deepEqual(bucket.acquire(0), admitted(800, 0, 1_200));
  assert.deepEqual(bucket.acquire(0), refused(400, 1_200));
});

Deno.test("the queue drains at 2.5 per second, making room one request every 400 ms", () => {
  const bucket = leakyBucket(SETTINGS, 0);
  for (let i = 0; i < 3; i++) bucket.acquire(0);
  assert.deepEqual(bucket.acquire(399), refused(1, 801));
  assert.deepEqual(bucket.acquire(400), admitted(800, 0, 1_200));
  assert.deepEqual(bucket.acquire(400), refused(400, 1_200));
});

Deno.test("under saturating load requests go on exactly 400 ms apart, 25 in 10 seconds", () => {
  const bucket = leakyBucket(SETTINGS, 0);
  const releases = saturate(bucket, 0, 10_000);
  assert.deepEqual(releases.slice(0, 4), [0, 400, 800, 1_200]);
  releases.slice(1).forEach((release, i) => assert.equal(release - releases[i]!, 400));
  assert.equal(releases.filter((release) => release > 0 && release <= 10_000).length, 25);
});

Deno.test("a request that finds the bucket drained goes on at once", () => {
  const bucket = leakyBucket(SETTINGS, 0);
  assert.deepEqual(bucket.acquire(0), admitted(0, 2, 400));
  assert.deepEqual(bucket.acquire(400), admitted(0, 2, 400));
  assert.deepEqual(bucket.acquire(500), admitted(300, 1, 700));
  assert.deepEqual(bucket.acquire(5_000), admitted(0, 2, 400));
});

Deno.test("a partly drained request counts as the fraction still queued", () => {
  const bucket = leakyBucket({ ...SETTINGS, capacity: 2 }, 0);
  bucket.acquire(0);
  bucket.acquire(0);
  assert.deepEqual(bucket.acquire(200), refused(200, 600), "1.5 requests queued");
  assert.deepEqual(bucket.acquire(400), admitted(400, 0, 800));
});

Deno.test("remaining is the whole requests that still fit in the queue", () => {
  const bucket = leakyBucket({ ...SETTINGS, rate: 1 }, 0);
  bucket.acquire(0);
  bucket.acquire(0);
  assert.deepEqual(bucket.acquire(500), admitted(1_500, 0, 2_500), "2.5 queued after it");
  assert.deepEqual(bucket.acquire(500), refused(500, 2_500));
});

Deno.test("the bucket is idle once its queue has drained", () => {
  const bucket = leakyBucket(SETTINGS, 0);
  for (let i = 0; i < 3; i++) bucket.acquire(100);
  assert.equal(bucket.idleFrom(), 1_300);
});

Deno.test("leaky-bucket refuses a rate that is not positive", () => {
  for (const rate of [0, -1, NaN]) {
    assert.throws(() => leakyBucket({ ...SETTINGS, rate }, 0), RangeError);
  }
});

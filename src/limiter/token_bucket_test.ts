import assert from "node:assert/strict";
import { tokenBucket } from "./token_bucket.ts";
import type { Decision, Limiter, LimiterSettings } from "./types.ts";

const SETTINGS: LimiterSettings = {
  algorithm: "token-bucket",
  capacity: 3,
  rate: 2.5,
  window: 1_000,
  warmUpPeriod: 0,
  coldFactor: 3,
};

/** Acquires once every ms from `from` to `to` inclusive, returning the times admitted. */
function saturate(limiter: Limiter, from: number, to: number): number[] {
  const admitted: number[] = [];
  for (let now = from; now <= to; now++) if (limiter.acquire(now).allowed) admitted.push(now);
  return admitted;
}

/** Acquires at `now` until refused, returning how many were admitted. */
function burst(limiter: Limiter, now: number): number {
  let admitted = 0;
  while (limiter.acquire(now).allowed) admitted++;
  return admitted;
}

/** Equal decisions, the times within float drift. */
function assertDecision(actual: Decision, expected: Decision, message?: string): void {
  const close = (a: number, b: number) => Math.abs(a - b) < 1e-9;
  const ok = actual.allowed === expected.allowed && actual.remaining === expected.remaining &&
    close(actual.delay, expected.delay) && close(actual.reset, expected.reset) &&
    close(actual.retryAfter, expected.retryAfter);
  if (!ok) assert.deepEqual(actual, expected, message);
}

function decision(remaining: number, reset: number): Decision {
  return { allowed: true, delay: 0, remaining, reset, retryAfter: 0 };
}

function refusal(retryAfter: number, reset: number): Decision {
  return { allowed: false, delay: 0, remaining: 0, reset, retryAfter };
}

Deno.test("a new bucket is full: it admits a burst of capacity, then refuses", () => {
  const bucket = tokenBucket(SETTINGS, 0);
  assertDecision(bucket.acquire(0), decision(2, 400));
  assertDecision(bucket.acquire(0), decision(1, 800));
  assertDecision(bucket.acquire(0), decision(0, 1_200));
  assertDecision(bucket.acquire(0), refusal(400, 1_200));
});

Deno.test("tokens refill at 2.5 per second: one every 400 ms", () => {
  const bucket = tokenBucket(SETTINGS, 0);
  burst(bucket, 0);
  assertDecision(bucket.acquire(399), refusal(1, 801));
  assertDecision(bucket.acquire(400), decision(0, 1_200));
  assert.deepEqual(saturate(bucket, 401, 2_000), [800, 1_200, 1_600, 2_000]);
});

Deno.test("under saturating load it admits exactly 25 requests in 10 seconds at 2.5/s", () => {
  const bucket = tokenBucket(SETTINGS, 0);
  assert.equal(burst(bucket, 0), 3);
  assert.equal(saturate(bucket, 1, 10_000).length, 25);
});

Deno.test("a fraction of a token counts toward the next request", () => {
  const bucket = tokenBucket(SETTINGS, 0);
  burst(bucket, 0);
  assertDecision(bucket.acquire(200), refusal(200, 1_000), "half a token");
  assertDecision(bucket.acquire(600), decision(0, 1_000), "1.5 tokens, 0.5 left");
  assertDecision(bucket.acquire(600), refusal(200, 1_000));
  assertDecision(bucket.acquire(800), decision(0, 1_200));
});

Deno.test("remaining is the whole tokens left", () => {
  const bucket = tokenBucket({ ...SETTINGS, capacity: 5, rate: 1 }, 0);
  for (let i = 0; i < 5; i++) bucket.acquire(0);
  assertDecision(bucket.acquire(2_500), decision(1, 3_500), "2.5 tokens, 1.5 left");
  assert.equal(bucket.acquire(2_500).allowed, true);
  assert.equal(bucket.acquire(2_500).allowed, false);
});

Deno.test("never holds more than capacity tokens, however long it idles", () => {
  const bucket = tokenBucket(SETTINGS, 0);
  burst(bucket, 0);
  assert.equal(burst(bucket, 3_600_000), 3);
  assert.equal(bucket.idleFrom(), 3_600_000 + 1_200);
});

Deno.test("a rate with no exact interval does not drift: 3/s admits 3000 in 1000 seconds", () => {
  const bucket = tokenBucket({ ...SETTINGS, rate: 3 }, 0);
  burst(bucket, 0);
  const admitted = saturate(bucket, 1, 1_000_000);
  assert.equal(admitted.length, 3_000);
  assert.deepEqual(admitted.slice(0, 4), [334, 667, 1_000, 1_334]);
});

Deno.test("a clock that steps back refills nothing and takes nothing back", () => {
  const bucket = tokenBucket(SETTINGS, 1_000);
  burst(bucket, 1_000);
  assert.equal(bucket.acquire(500).allowed, false);
  assert.equal(bucket.acquire(1_400).allowed, true);
});

Deno.test("a bucket saved under a larger capacity holds at most the new capacity", () => {
  const saved = tokenBucket({ ...SETTINGS, capacity: 10 }, 0).save();
  const bucket = tokenBucket(SETTINGS, 0, saved);
  assert.equal(burst(bucket, 0), 3);
});

Deno.test("token-bucket refuses a rate that is not positive", () => {
  for (const rate of [0, -2.5, NaN, Infinity]) {
    assert.throws(() => tokenBucket({ ...SETTINGS, rate }, 0), RangeError);
  }
});

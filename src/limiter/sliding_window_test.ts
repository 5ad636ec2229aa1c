import assert from "node:assert/strict";
import { slidingWindow } from "./sliding_window.ts";
import type { Decision, Limiter, LimiterSettings } from "./types.ts";

const SETTINGS: LimiterSettings = {
  algorithm: "sliding-window",
  capacity: 3,
  rate: 1,
  window: 1_000,
  warmUpPeriod: 0,
  coldFactor: 3,
};

function admitted(remaining: number, reset: number): Decision {
  return { allowed: true, delay: 0, remaining, reset, retryAfter: 0 };
}

function refused(retryAfter: number, reset: number): Decision {
  return { allowed: false, delay: 0, remaining: 0, reset, retryAfter };
}

/** Acquires once every ms from `from` to `to` inclusive, returning the times admitted. */
function saturate(limiter: Limiter, from: number, to: number): number[] {
  const times: number[] = [];
  for (let now = from; now <= to; now++) if (limiter.acquire(now).allowed) times.push(now);
  return times;
}

Deno.test("admits capacity requests in a window, then refuses until the oldest leaves it", () => {
  const window = slidingWindow(SETTINGS, 0);
  assert.deepEqual(window.acquire(0), admitted(2, 1_000));
  assert.deepEqual(window.acquire(100), admitted(1, 1_000));
  assert.deepEqual(window.acquire(200), admitted(0, 1_000));
  assert.deepEqual(window.acquire(300), refused(700, 900));
});

Deno.test("a request one window after the oldest is admitted; 1 ms earlier it is not", () => {
  const window = slidingWindow(SETTINGS, 0);
  for (const now of [0, 100, 200]) window.acquire(now);
  assert.deepEqual(window.acquire(999), refused(1, 201));
  assert.deepEqual(window.acquire(1_000), admitted(0, 1_000));
  assert.deepEqual(window.acquire(1_099), refused(1, 901));
  assert.deepEqual(window.acquire(1_100), admitted(0, 1_000));
  assert.deepEqual(window.acquire(1_199), refused(1, 901));
  assert.deepEqual(window.acquire(1_200), admitted(0, 1_000));
});

Deno.test("each request counts for exactly one window, across many windows", () => {
  const window = slidingWindow({ ...SETTINGS, capacity: 2 }, 0);
  assert.equal(window.acquire(0).allowed, true);
  assert.equal(window.acquire(600).allowed, true);
  assert.deepEqual(window.acquire(999), refused(1, 601));
  assert.deepEqual(window.acquire(1_000), admitted(0, 1_000), "the request at 0 left");
  assert.deepEqual(window.acquire(1_500), refused(100, 500));
  assert.deepEqual(window.acquire(1_600), admitted(0, 1_000), "the request at 600 left");
  assert.deepEqual(window.acquire(3_600), admitted(1, 1_000), "every request left");
});

Deno.test("under saturating load: exactly capacity per window, never more in any window", () => {
  const window = slidingWindow(SETTINGS, 0);
  const times = saturate(window, 0, 9_999);
  assert.equal(times.length, 30);
  assert.deepEqual(times.slice(0, 6), [0, 1, 2, 1_000, 1_001, 1_002]);
  for (let i = 3; i < times.length; i++) assert.ok(times[i]! - times[i - 3]! >= 1_000);
});

Deno.test("traffic spread out enough never to exceed the limit is admitted in full", () => {
  const window = slidingWindow(SETTINGS, 0);
  const times = saturate(window, 0, 0);
  for (let now = 334; now <= 100_000; now += 334) {
    assert.equal(window.acquire(now).allowed, true, `at ${now}`);
    times.push(now);
  }
  assert.equal(times.length, 300);
});

Deno.test("the log never holds more than capacity times", () => {
  const window = slidingWindow({ ...SETTINGS, capacity: 50 }, 0);
  saturate(window, 0, 100_000);
  const { times } = window.save();
  assert.ok(Array.isArray(times));
  assert.equal(times.length, 50);
  assert.deepEqual([times[0], times[1], times[49]], [99_001, 99_002, 100_000]);
});

Deno.test("a window saved under a larger capacity keeps its newest times", () => {
  const saved = slidingWindow({ ...SETTINGS, capacity: 5 }, 0);
  for (const now of [0, 10, 20, 30, 40]) saved.acquire(now);
  const window = slidingWindow(SETTINGS, 40, saved.save());
  assert.deepEqual(window.acquire(40), refused(1_020 - 40, 1_000));
  assert.equal(window.save()["times"]?.toString(), "20,30,40");
});

Deno.test("a clock that steps back logs the request at the newest time", () => {
  const window = slidingWindow({ ...SETTINGS, capacity: 2 }, 0);
  window.acquire(500);
  assert.deepEqual(window.acquire(400), admitted(0, 1_100));
  assert.deepEqual(window.acquire(1_499), refused(1, 1));
  assert.equal(window.acquire(1_500).allowed, true);
});

Deno.test("a window that admitted nothing is idle from when it was built", () => {
  assert.equal(slidingWindow(SETTINGS, 7_000).idleFrom(), 7_000);
  const window = slidingWindow(SETTINGS, 7_000);
  window.acquire(7_500);
  assert.equal(window.idleFrom(), 8_500);
});

Deno.test("sliding-window refuses a window that is not positive", () => {
  for (const length of [0, -1, NaN]) {
    assert.throws(() => slidingWindow({ ...SETTINGS, window: length }, 0), RangeError);
  }
});

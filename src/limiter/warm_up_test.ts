import assert from "node:assert/strict";
import { tokenBucket } from "./token_bucket.ts";
import type { Decision, Limiter, LimiterSettings } from "./types.ts";
import { warmUp } from "./warm_up.ts";
import { seededRandom } from "../lib/seeded_random.ts";

/**
 * 10/s after 2 s of warm-up from 10/3 per second: stable interval 100 ms, cold interval 300 ms,
 * 10 permits at the threshold, 20 at most, a permit stored every 100 ms of idle time.
 */
const SETTINGS: LimiterSettings = {
  algorithm: "warm-up",
  capacity: 1,
  rate: 10,
  window: 1_000,
  warmUpPeriod: 2_000,
  coldFactor: 3,
};

/** The admissions of a cold limiter under saturating load, from the moment it is built. */
const COLD_SCHEDULE = [0, 290, 560, 810, 1_040, 1_250, 1_440, 1_610, 1_760, 1_890, 2_000, 2_100];

/** Acquires once every ms from `from` to `to` inclusive, returning the times admitted. */
function saturate(limiter: Limiter, from: number, to: number): number[] {
  const times: number[] = [];
  for (let now = from; now <= to; now++) if (limiter.acquire(now).allowed) times.push(now);
  return times;
}

/** Acquires at `now` until refused, returning every decision. */
function burst(limiter: Limiter, now: number): Decision[] {
  const decisions: Decision[] = [];
  for (let decision = limiter.acquire(now); decision.allowed; decision = limiter.acquire(now)) {
    decisions.push(decision);
  }
  return decisions;
}

/** Admissions per whole second, from second 0 to the last second in `times`. */
function perSecond(times: readonly number[], seconds: number): number[] {
  const counts = new Array<number>(seconds).fill(0);
  for (const time of times) counts[Math.floor(time / 1_000)]!++;
  return counts;
}

Deno.test("a cold limiter spaces requests as Guava does, from near the cold interval down", () => {
  const limiter = warmUp(SETTINGS, 0);
  const times = saturate(limiter, 0, 2_100);
  assert.deepEqual(times, COLD_SCHEDULE);
  const gaps = times.slice(1).map((time, i) => time - times[i]!);
  assert.deepEqual(gaps, [290, 270, 250, 230, 210, 190, 170, 150, 130, 110, 100]);
});

Deno.test("cold start is slower than rate; after warmUpPeriod of full load it admits rate", () => {
  const limiter = warmUp(SETTINGS, 0);
  const counts = perSecond(saturate(limiter, 0, 5_999), 6);
  assert.deepEqual(counts, [4, 6, 10, 10, 10, 10]);
});

Deno.test("refused as by Guava's tryAcquire; retryAfter is the time to the next free slot", () => {
  const limiter = warmUp(SETTINGS, 0);
  assert.deepEqual(limiter.acquire(0), {
    allowed: true,
    delay: 0,
    remaining: 0,
    reset: 290 + 100,
    retryAfter: 0,
  });
  assert.deepEqual(limiter.acquire(1), {
    allowed: false,
    delay: 0,
    remaining: 0,
    reset: 389,
    retryAfter: 289,
  });
  assert.equal(limiter.acquire(289).allowed, false);
  assert.equal(limiter.acquire(290).allowed, true);
});

Deno.test("left idle for long enough it is cold again", () => {
  const limiter = warmUp(SETTINGS, 0);
  const times = saturate(limiter, 0, 4_999);
  assert.equal(times.at(-1), 4_900);
  assert.equal(limiter.peek(4_950).reset, 2_050, "cold at 7000");
  assert.equal(limiter.idleFrom(), 7_000);
  const again = saturate(limiter, 7_000, 9_100);
  assert.deepEqual(again, COLD_SCHEDULE.map((time) => time + 7_000));
});

Deno.test("it cools down in proportion to idle time", () => {
  const half = warmUp(SETTINGS, 0);
  saturate(half, 0, 4_999);
  const afterHalf = saturate(half, 6_000, 6_999);
  assert.equal(afterHalf.length, 10, "1 s idle stores 10 permits: at the threshold, still warm");

  const threeQuarters = warmUp(SETTINGS, 0);
  saturate(threeQuarters, 0, 4_999);
  const afterThreeQuarters = saturate(threeQuarters, 6_500, 7_600);
  assert.deepEqual(afterThreeQuarters.slice(0, 7), [
    6_500,
    6_690,
    6_860,
    7_010,
    7_140,
    7_250,
    7_350,
  ]);
});

Deno.test("capacity lets a warm limiter take a burst of capacity requests at once", () => {
  const limiter = warmUp({ ...SETTINGS, capacity: 5 }, 0);
  saturate(limiter, 0, 4_999);
  const decisions = burst(limiter, 5_500);
  assert.deepEqual(decisions.map((decision) => decision.remaining), [4, 3, 2, 1, 0]);
});

Deno.test("cold, a burst pays each request's cold interval out of the same tolerance", () => {
  const limiter = warmUp({ ...SETTINGS, capacity: 8 }, 0);
  const decisions = burst(limiter, 0);
  // Admitted while the next free time is at most 700 ms ahead: at 0, 290 and 560, not 810.
  assert.deepEqual(decisions.map((decision) => decision.remaining), [2, 1, 0]);
  assert.deepEqual(limiter.peek(0).retryAfter, 810 - 700);
});

Deno.test("remaining counts exactly the requests still admitted at once, cold or warm", () => {
  const random = seededRandom(5);
  for (const capacity of [2, 5, 8, 13]) {
    const settings = { ...SETTINGS, capacity, rate: 7, warmUpPeriod: 3_000, coldFactor: 4.5 };
    const limiter = warmUp(settings, 0);
    let now = 0;
    for (let i = 0; i < 400; i++) {
      now += random() < 0.5 ? 0 : Math.floor(random() * 1_500);
      const decision = limiter.acquire(now);
      if (!decision.allowed) continue;
      const further = burst(warmUp(settings, now, limiter.save()), now);
      assert.equal(further.length, decision.remaining, `capacity ${capacity} at ${now}`);
    }
  }
});

Deno.test("with no warm-up period it decides as a token bucket of the same capacity", () => {
  const settings = { ...SETTINGS, capacity: 4, rate: 2.5, warmUpPeriod: 0 };
  const limiter = warmUp(settings, 0);
  const bucket = tokenBucket({ ...settings, algorithm: "token-bucket" }, 0);
  const random = seededRandom(9);
  let now = 0;
  for (let i = 0; i < 500; i++) {
    now += random() < 0.4 ? 0 : Math.floor(random() * 900);
    const expected = bucket.acquire(now);
    const actual = limiter.acquire(now);
    assert.equal(actual.allowed, expected.allowed, `at ${now}`);
    assert.equal(actual.remaining, expected.remaining, `at ${now}`);
    assert.ok(Math.abs(actual.retryAfter - expected.retryAfter) < 1e-6, `at ${now}`);
    assert.ok(Math.abs(actual.reset - expected.reset) < 1e-6, `at ${now}`);
  }
});

Deno.test("a cold factor of 1 runs at rate from the start", () => {
  const limiter = warmUp({ ...SETTINGS, coldFactor: 1 }, 0);
  assert.deepEqual(perSecond(saturate(limiter, 0, 2_999), 3), [10, 10, 10]);
});

Deno.test("warm-up refuses settings it cannot work with", () => {
  assert.throws(() => warmUp({ ...SETTINGS, rate: 0 }, 0), RangeError);
  assert.throws(() => warmUp({ ...SETTINGS, warmUpPeriod: -1 }, 0), RangeError);
  assert.throws(() => warmUp({ ...SETTINGS, coldFactor: 0.5 }, 0), RangeError);
  assert.throws(() => warmUp({ ...SETTINGS, coldFactor: NaN }, 0), RangeError);
});

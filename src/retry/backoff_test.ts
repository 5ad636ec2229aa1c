import assert from "node:assert/strict";
import { backoffDelay } from "./backoff.ts";

const SETTINGS = { base: 100, max: 10_000 };
const JUST_BELOW_ONE = 1 - Number.EPSILON;

Deno.test("the first retry waits up to the base delay", () => {
  assert.equal(backoffDelay(0, SETTINGS, () => 0), 0);
  assert.equal(backoffDelay(0, SETTINGS, () => 0.5), 50);
  assert.equal(backoffDelay(0, SETTINGS, () => JUST_BELOW_ONE), 99);
});

Deno.test("the ceiling doubles with each retry", () => {
  assert.equal(backoffDelay(1, SETTINGS, () => 0.5), 100);
  assert.equal(backoffDelay(2, SETTINGS, () => 0.5), 200);
  assert.equal(backoffDelay(3, SETTINGS, () => 0.5), 400);
});

Deno.test("the ceiling stops growing at max", () => {
  assert.equal(backoffDelay(6, SETTINGS, () => 0.5), 3_200);
  assert.equal(backoffDelay(7, SETTINGS, () => 0.5), 5_000);
  assert.equal(backoffDelay(20, SETTINGS, () => 0.5), 5_000);
  assert.equal(backoffDelay(20, SETTINGS, () => JUST_BELOW_ONE), 9_999);
});

Deno.test("the delay is a whole number of milliseconds", () => {
  for (let attempt = 0; attempt < 12; attempt++) {
    const delay = backoffDelay(attempt, { base: 3, max: 5_000 }, () => 0.123456789);
    assert.ok(Number.isInteger(delay), `attempt ${attempt}: ${delay}`);
  }
});

Deno.test("a very large attempt gives a finite delay, even with a zero base", () => {
  for (const attempt of [1_023, 1_024, 5_000, Number.MAX_SAFE_INTEGER]) {
    assert.equal(backoffDelay(attempt, SETTINGS, () => 0.5), 5_000);
    assert.equal(backoffDelay(attempt, { base: 0, max: 10_000 }, () => 0.5), 0);
  }
});

Deno.test("a zero max means no wait", () => {
  assert.equal(backoffDelay(3, { base: 100, max: 0 }, () => 0.9), 0);
});

Deno.test("an attempt or setting that makes no sense is rejected", () => {
  const random = () => 0.5;
  assert.throws(() => backoffDelay(-1, SETTINGS, random), RangeError);
  assert.throws(() => backoffDelay(1.5, SETTINGS, random), RangeError);
  assert.throws(() => backoffDelay(Number.NaN, SETTINGS, random), RangeError);
  assert.throws(() => backoffDelay(0, { base: -1, max: 10 }, random), RangeError);
  assert.throws(() => backoffDelay(0, { base: 1, max: Infinity }, random), RangeError);
  assert.throws(() => backoffDelay(0, { base: Number.NaN, max: 10 }, random), RangeError);
});

import assert from "node:assert/strict";
import { DecayingAverage } from "./decaying_average.ts";

Deno.test("a decaying average starts at its first sample", () => {
  const average = new DecayingAverage(1000);
  assert.equal(average.value, undefined);
  average.add(80, 5000);
  assert.equal(average.value, 80);
  assert.equal(average.at, 5000);
});

Deno.test("a sample one half-life newer weighs as much as the past", () => {
  const average = new DecayingAverage(1000);
  average.add(100, 0);
  average.add(200, 1000);
  assert.ok(Math.abs(average.value! - 150) < 1e-9);
});

Deno.test("samples at the same instant barely move the average", () => {
  const average = new DecayingAverage(1000);
  average.add(100, 0);
  average.add(10_000, 0);
  assert.equal(average.value, 100);
});

Deno.test("a sample long after the last one takes over", () => {
  const average = new DecayingAverage(1000);
  average.add(100, 0);
  average.add(20, 60_000);
  assert.ok(Math.abs(average.value! - 20) < 1e-9);
});

Deno.test("reset forgets every sample", () => {
  const average = new DecayingAverage(1000);
  average.add(100, 0);
  average.reset();
  assert.equal(average.value, undefined);
  average.add(7, 10);
  assert.equal(average.value, 7);
});

Deno.test("a half-life must be positive", () => {
  assert.throws(() => new DecayingAverage(0), RangeError);
});

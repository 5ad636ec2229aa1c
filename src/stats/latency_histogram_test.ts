import assert from "node:assert/strict";
import { LatencyHistogram } from "./latency_histogram.ts";

/** Within `tolerance` (relative) of `expected`. */
function near(actual: number | null, expected: number, tolerance = 0.05): void {
  assert.ok(actual !== null, `expected about ${expected}, got null`);
  assert.ok(
    Math.abs(actual - expected) <= expected * tolerance,
    `expected about ${expected}, got ${actual}`,
  );
}

Deno.test("an empty histogram has no percentiles", () => {
  const histogram = new LatencyHistogram();
  assert.equal(histogram.count, 0);
  assert.equal(histogram.percentile(0.5), null);
});

Deno.test("percentiles of a uniform spread are within the buckets' width", () => {
  const histogram = new LatencyHistogram();
  for (let ms = 1; ms <= 1000; ms++) histogram.add(ms);
  assert.equal(histogram.count, 1000);
  near(histogram.percentile(0.5), 500);
  near(histogram.percentile(0.9), 900);
  near(histogram.percentile(0.99), 990);
});

Deno.test("a single value is reported exactly, clamped to what was seen", () => {
  const histogram = new LatencyHistogram();
  histogram.add(123.4);
  assert.equal(histogram.percentile(0.5), 123.4);
  assert.equal(histogram.percentile(0.99), 123.4);
});

Deno.test("values beyond the range land in its end buckets", () => {
  const histogram = new LatencyHistogram();
  histogram.add(0);
  histogram.add(10 * 3_600_000);
  assert.equal(histogram.percentile(0.01), 0);
  assert.equal(histogram.percentile(1), 10 * 3_600_000);
});

Deno.test("merged histograms count both, and reset forgets everything", () => {
  const fast = new LatencyHistogram();
  const slow = new LatencyHistogram();
  for (let i = 0; i < 50; i++) fast.add(10);
  for (let i = 0; i < 50; i++) slow.add(1000);
  const both = LatencyHistogram.merged([fast, slow]);
  assert.equal(both.count, 100);
  near(both.percentile(0.25), 10);
  near(both.percentile(0.75), 1000);
  fast.reset();
  assert.equal(fast.count, 0);
  assert.equal(fast.percentile(0.5), null);
});

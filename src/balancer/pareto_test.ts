import assert from "node:assert/strict";
import { type Candidate, dominates, rankCandidates, type Weights } from "./pareto.ts";

interface Named extends Candidate {
  readonly name: string;
}

const EVEN: Weights = { quality: 1, cost: 1, latency: 1 };

function names(candidates: readonly Named[], weights: Weights = EVEN): string[] {
  return rankCandidates(candidates, weights).map(({ name }) => name);
}

Deno.test("a candidate dominates another only when no worse on all three and better on one", () => {
  const base = { quality: 0.8, cost: 1, latency: 100 };
  assert.ok(dominates({ ...base, cost: 0.5 }, base));
  assert.ok(dominates({ ...base, quality: 0.9 }, base));
  assert.ok(!dominates(base, base), "an equal candidate does not dominate");
  assert.ok(!dominates({ ...base, quality: 0.9, latency: 200 }, base), "a trade-off does not");
});

Deno.test("dominated candidates rank after the front, whatever their score", () => {
  const ranked = names([
    { name: "worse", quality: 0.5, cost: 2, latency: 300 },
    { name: "best-quality", quality: 0.9, cost: 2, latency: 300 },
    { name: "cheapest", quality: 0.5, cost: 1, latency: 300 },
  ], { quality: 1, cost: 0, latency: 0 });
  assert.deepEqual(ranked, ["best-quality", "cheapest", "worse"]);
});

Deno.test("the weights choose among the front", () => {
  const front: Named[] = [
    { name: "smart", quality: 0.95, cost: 10, latency: 800 },
    { name: "cheap", quality: 0.6, cost: 0.5, latency: 600 },
    { name: "quick", quality: 0.7, cost: 3, latency: 100 },
  ];
  assert.equal(names(front, { quality: 1, cost: 0, latency: 0 })[0], "smart");
  assert.equal(names(front, { quality: 0, cost: 1, latency: 0 })[0], "cheap");
  assert.equal(names(front, { quality: 0, cost: 0, latency: 1 })[0], "quick");
  // Scaled to 0..1 over the front: smart 1+0+0, cheap 0+1+0.29, quick 0.29+0.74+1.
  assert.deepEqual(names(front), ["quick", "cheap", "smart"]);
});

Deno.test("an unmeasured latency counts as faster than any measured one", () => {
  const ranked = names([
    { name: "measured", quality: 0.8, cost: 1, latency: 500 },
    { name: "new", quality: 0.8, cost: 1, latency: undefined },
  ]);
  assert.deepEqual(ranked, ["new", "measured"], "the new one is tried, and so measured");
  assert.deepEqual(
    names([
      { name: "a", quality: 0.8, cost: 1, latency: undefined },
      { name: "b", quality: 0.8, cost: 1, latency: undefined },
    ]),
    ["a", "b"],
    "none measured: equal, in the given order",
  );
});

Deno.test("equal scores keep the given order, and no candidates rank to none", () => {
  const same = { quality: 0.5, cost: 1, latency: 10 };
  assert.deepEqual(names([{ name: "x", ...same }, { name: "y", ...same }]), ["x", "y"]);
  assert.deepEqual(rankCandidates([], EVEN), []);
});

Deno.test("the dominated candidates rank among themselves by the same weights", () => {
  const ranked = names([
    { name: "dear", quality: 0.9, cost: 10, latency: 100 },
    { name: "fair", quality: 0.9, cost: 2, latency: 100 },
    { name: "cheapest", quality: 0.9, cost: 0.1, latency: 100 },
  ], { quality: 0, cost: 1, latency: 0 });
  assert.deepEqual(ranked, ["cheapest", "fair", "dear"]);
});

import assert from "node:assert/strict";
import { seededRandom } from "../lib/seeded_random.ts";
import { expectedFirstToken, fastest, MIN_SUCCESS, RELEARN_AFTER } from "./fastest.ts";
import { InstancePerformance } from "./performance.ts";
import type { Strategy, Weighted } from "./types.ts";

interface Item extends Weighted {
  state: { active: number; performance: InstancePerformance };
}

const START = 1_000_000;

function pool(count: number, weight = 1): Item[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `i${i}`,
    weight,
    state: { active: 0, performance: new InstancePerformance() },
  }));
}

function clock() {
  let time = START;
  return {
    now: () => time,
    advance: (ms: number) => void (time += ms),
  };
}

const all = () => true;

/** How many of `picks` each item got. */
function shares(strategy: Strategy<Item>, items: Item[], picks: number): number[] {
  const counts = items.map(() => 0);
  for (let i = 0; i < picks; i++) counts[items.indexOf(strategy.pick({ clientIp: "" }, all)!)]!++;
  return counts;
}

Deno.test("fastest: of two idle instances, the one with the shorter time to first token", () => {
  const items = pool(2);
  const time = clock();
  items[0]!.state.performance.firstTokenAfter(400, START);
  items[1]!.state.performance.firstTokenAfter(100, START);
  const strategy = fastest(items, { now: time.now, random: seededRandom(3) });
  assert.deepEqual(shares(strategy, items, 200), [0, 200]);
});

Deno.test("fastest: requests in flight make the fast instance lose to an idle slower one", () => {
  const items = pool(2);
  const time = clock();
  items[0]!.state.performance.firstTokenAfter(400, START);
  items[1]!.state.performance.firstTokenAfter(100, START);
  const strategy = fastest(items, { now: time.now, random: seededRandom(3) });
  // 100 × (1 + 3) = 400 ties with the idle 400: the first drawn wins.
  items[1]!.state.active = 4;
  assert.equal(strategy.pick({ clientIp: "" }, all), items[0], "100 × 5 loses to 400 × 1");
  // Filled up as picks come: the fast one takes about four in five of twenty concurrent.
  items[1]!.state.active = 0;
  for (let i = 0; i < 20; i++) strategy.pick({ clientIp: "" }, all)!.state.active++;
  assert.ok(items[1]!.state.active >= 15, `fast one took ${items[1]!.state.active} of 20`);
  assert.ok(items[0]!.state.active >= 3, `slow one took ${items[0]!.state.active} of 20`);
});

Deno.test("fastest: weight is capacity: load counts per unit of weight", () => {
  const items = pool(2);
  (items[0] as { weight: number }).weight = 4;
  const time = clock();
  items[0]!.state.performance.firstTokenAfter(100, START);
  items[1]!.state.performance.firstTokenAfter(100, START);
  items[0]!.state.active = 4;
  items[1]!.state.active = 2;
  const strategy = fastest(items, { now: time.now, random: seededRandom(1) });
  assert.equal(strategy.pick({ clientIp: "" }, all), items[0], "100 × (1 + 4/4) < 100 × (1 + 2)");
});

Deno.test("fastest: an instance never measured counts as the fastest measured, so it is learnt", () => {
  const items = pool(2);
  const time = clock();
  items[0]!.state.performance.firstTokenAfter(100, START);
  const strategy = fastest(items, { now: time.now, random: seededRandom(5) });
  assert.equal(strategy.pick({ clientIp: "" }, all), items[1], "the cold one wins the tie");
  items[1]!.state.active = 1;
  assert.equal(strategy.pick({ clientIp: "" }, all), items[0], "one probe at a time");
  items[1]!.state.performance.firstTokenAfter(300, START);
  assert.deepEqual(shares(strategy, items, 100), [100, 0], "once measured slow, it is left");
});

Deno.test("fastest: a measurement older than RELEARN_AFTER is taken again", () => {
  const items = pool(2);
  const time = clock();
  items[0]!.state.performance.firstTokenAfter(400, START);
  items[1]!.state.performance.firstTokenAfter(100, START);
  const strategy = fastest(items, { now: time.now, random: seededRandom(9) });
  time.advance(RELEARN_AFTER);
  items[1]!.state.performance.firstTokenAfter(100, time.now());
  assert.deepEqual(shares(strategy, items, 50), [0, 50], "still fresh at RELEARN_AFTER");
  time.advance(1);
  assert.equal(strategy.pick({ clientIp: "" }, all), items[0], "the stale one is measured again");
  // A fresh measurement says it is fast now: it takes the traffic.
  items[0]!.state.performance.firstTokenAfter(20, time.now());
  items[0]!.state.performance.firstTokenAfter(20, time.now());
  assert.ok(items[0]!.state.performance.firstToken.value! < 100);
  assert.deepEqual(shares(strategy, items, 50), [50, 0]);
});

Deno.test("fastest: failures make an instance's expected time grow", () => {
  const items = pool(2);
  const time = clock();
  items[0]!.state.performance.firstTokenAfter(400, START);
  items[1]!.state.performance.firstTokenAfter(100, START);
  for (let i = 0; i < 10; i++) items[1]!.state.performance.outcome(false, START);
  const strategy = fastest(items, { now: time.now, random: seededRandom(2) });
  assert.equal(
    expectedFirstToken(items[1]!, { clientIp: "" }, { now: START, cold: 1, retry: 400 }),
    100 + (1 / MIN_SUCCESS - 1) * 400,
    "every request failing costs the floor's nineteen retries at the slowest",
  );
  assert.deepEqual(shares(strategy, items, 50), [50, 0]);
  // Outcomes older than RELEARN_AFTER no longer count; the time to first token is fresh.
  time.advance(RELEARN_AFTER + 1);
  items[0]!.state.performance.firstTokenAfter(400, time.now());
  items[1]!.state.performance.firstTokenAfter(100, time.now());
  assert.deepEqual(shares(strategy, items, 50), [0, 50]);
});

Deno.test("fastest: power of two choices: with four, the fastest takes about the half it is drawn in", () => {
  const items = pool(4);
  const time = clock();
  items.forEach((item, i) => item.state.performance.firstTokenAfter(100 + 100 * i, START));
  const strategy = fastest(items, { now: time.now, random: seededRandom(11) });
  const counts = shares(strategy, items, 6000);
  // Pairs (of 6) holding i0: 3; i1 wins the 2 without i0, i2 the 1 with only i3; i3 never.
  const expected = [3 / 6, 2 / 6, 1 / 6, 0];
  counts.forEach((count, i) => {
    assert.ok(Math.abs(count / 6000 - expected[i]!) < 0.03, `item ${i}: ${count / 6000}`);
  });
});

Deno.test("fastest: without measurements, the two drawn by weight are compared by load", () => {
  const items = pool(3);
  const strategy = fastest(items, { now: clock().now, random: seededRandom(4) });
  for (let i = 0; i < 30; i++) strategy.pick({ clientIp: "" }, all)!.state.active++;
  const loads = items.map((item) => item.state.active);
  assert.ok(Math.max(...loads) - Math.min(...loads) <= 2, `loads ${loads}`);
});

Deno.test("fastest: reads the clock once per pick and asks eligibility once per item", () => {
  const items = pool(3);
  let reads = 0;
  let asked = 0;
  const strategy = fastest(items, { now: () => (reads++, START), random: seededRandom(1) });
  strategy.pick({ clientIp: "" }, () => (asked++, true));
  assert.deepEqual([reads, asked], [1, 3]);
});

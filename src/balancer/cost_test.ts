import assert from "node:assert/strict";
import { cost, MEASUREMENT_STALE_AFTER } from "./cost.ts";
import { InstancePerformance } from "./performance.ts";
import type { Price } from "./price.ts";
import type { Weighted } from "./types.ts";

interface Item extends Weighted {
  readonly state: { active: number; readonly performance: InstancePerformance };
}

/** An item at `price`, whose time to first token measured `firstToken` ms at clock time `at`. */
function item(
  id: string,
  options: { price?: Price; firstToken?: number; weight?: number; at?: number } = {},
): Item {
  const performance = new InstancePerformance();
  if (options.firstToken !== undefined) {
    performance.firstTokenAfter(options.firstToken, options.at ?? 1_000);
  }
  return {
    id,
    weight: options.weight ?? 1,
    state: { active: 0, performance },
    ...(options.price ? { price: options.price } : {}),
  };
}

const CONTEXT = { clientIp: "127.0.0.1" };
/** The clock the strategies read: a few seconds after the samples `item` takes. */
const NOW = () => 5_000;
const all = () => true;
const CHEAP: Price = { input: 0.1, output: 0.2, request: 0 };
const DEAR: Price = { input: 3, output: 15, request: 0 };

function picks(strategy: ReturnType<typeof cost<Item>>, times: number): string[] {
  return Array.from({ length: times }, () => strategy.pick(CONTEXT, all)!.id);
}

Deno.test("cost: the cheapest instance within the latency bound wins", () => {
  const items = [
    item("dear-fast", { price: DEAR, firstToken: 100 }),
    item("cheap-ok", { price: CHEAP, firstToken: 900 }),
  ];
  const strategy = cost(items, { maxLatency: 1_000, now: NOW });
  assert.deepEqual(picks(strategy, 3), ["cheap-ok", "cheap-ok", "cheap-ok"]);
});

Deno.test("cost: an instance slower than the bound is passed over for a dearer one within", () => {
  const items = [
    item("cheap-slow", { price: CHEAP, firstToken: 5_000 }),
    item("dear-fast", { price: DEAR, firstToken: 200 }),
  ];
  assert.deepEqual(picks(cost(items, { maxLatency: 1_000, now: NOW }), 2), [
    "dear-fast",
    "dear-fast",
  ]);
  assert.deepEqual(
    picks(cost(items, { now: NOW }), 2),
    ["cheap-slow", "cheap-slow"],
    "no bound: price only",
  );
});

Deno.test("cost: when none is within the bound, the fastest wins", () => {
  const items = [
    item("cheap-slowest", { price: CHEAP, firstToken: 9_000 }),
    item("dear-slow", { price: DEAR, firstToken: 3_000 }),
  ];
  assert.deepEqual(picks(cost(items, { maxLatency: 1_000, now: NOW }), 2), [
    "dear-slow",
    "dear-slow",
  ]);
});

Deno.test("cost: an instance not measured yet counts as within the bound", () => {
  const items = [
    item("dear-fast", { price: DEAR, firstToken: 100 }),
    item("cheap-new", { price: CHEAP }),
  ];
  assert.equal(cost(items, { maxLatency: 1_000, now: NOW }).pick(CONTEXT, all)!.id, "cheap-new");
});

Deno.test("cost: the bound reads the latest measurements, decayed by their clock time", () => {
  let now = 1_000;
  const slow = item("cheap", { price: CHEAP, firstToken: 4_000, at: 0 });
  const items = [slow, item("dear", { price: DEAR, firstToken: 100 })];
  const strategy = cost(items, { maxLatency: 1_000, now: () => now });
  assert.equal(strategy.pick(CONTEXT, all)!.id, "dear");
  // Fast answers over the next half minute (three half-lives) bring its average under the bound.
  for (now = 10_000; now <= 30_000; now += 10_000) slow.state.performance.firstTokenAfter(200, now);
  assert.equal(strategy.pick(CONTEXT, all)!.id, "cheap");
});

Deno.test("cost: a slow measurement that has gone stale counts as unknown, so it is tried again", () => {
  let now = 0;
  const slow = item("cheap", { price: CHEAP, firstToken: 4_000, at: 0 });
  const fresh = item("dear", { price: DEAR, firstToken: 100, at: 0 });
  const strategy = cost([slow, fresh], { maxLatency: 1_000, now: () => now });
  now = MEASUREMENT_STALE_AFTER - 1;
  fresh.state.performance.firstTokenAfter(100, now);
  assert.equal(strategy.pick(CONTEXT, all)!.id, "dear");
  now = MEASUREMENT_STALE_AFTER;
  assert.equal(strategy.pick(CONTEXT, all)!.id, "cheap");
});

Deno.test("cost: an instance without a price costs nothing", () => {
  const items = [item("priced", { price: CHEAP }), item("local")];
  assert.equal(cost(items, { now: NOW }).pick(CONTEXT, all)!.id, "local");
});

Deno.test("cost: equal prices share the traffic by weight", () => {
  const items = [
    item("a", { price: CHEAP, weight: 2 }),
    item("b", { price: CHEAP }),
    item("dear", { price: DEAR, weight: 5 }),
  ];
  assert.deepEqual(picks(cost(items, { now: NOW }), 6).sort(), ["a", "a", "a", "a", "b", "b"]);
});

Deno.test("cost: a price per request ranks against token prices by a typical request", () => {
  // 1,000 input and 1,000 output tokens: 0.018 USD at DEAR, against 0.01 per request.
  const items = [
    item("tokens", { price: DEAR }),
    item("flat", { price: { input: 0, output: 0, request: 0.01 } }),
  ];
  assert.equal(cost(items, { now: NOW }).pick(CONTEXT, all)!.id, "flat");
});

Deno.test("cost: an ineligible cheap instance gives way to the next cheapest", () => {
  const items = [item("cheap", { price: CHEAP }), item("dear", { price: DEAR })];
  const strategy = cost(items, { now: NOW });
  assert.equal(strategy.pick(CONTEXT, (x) => x.id !== "cheap")!.id, "dear");
});

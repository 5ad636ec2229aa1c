/**
 * One suite for every strategy: each must honour eligibility and weights; then the properties
 * that make each one what it is.
 */
import assert from "node:assert/strict";
import { STRATEGIES, type StrategyName } from "./mod.ts";
import type { LoadSignals, Weighted } from "./types.ts";
import { seededRandom } from "../lib/seeded_random.ts";
import { READING_HALF_LIFE, READING_MAX_AGE, readingWeight } from "./least_load.ts";

interface Item extends Weighted {
  state: { active: number; activeTokens?: number };
  backend?: { load: LoadSignals | undefined };
}

function pool(...weights: number[]): Item[] {
  return weights.map((weight, i) => ({ id: `i${i}`, weight, state: { active: 0 } }));
}

const all = () => true;
const names = Object.keys(STRATEGIES) as StrategyName[];

/** Counts picks per item; hashing strategies get a different client per pick. */
function distribution(name: StrategyName, items: Item[], picks: number): number[] {
  const strategy = STRATEGIES[name](items, { random: seededRandom(7), virtualNodes: 150 });
  const counts = items.map(() => 0);
  for (let i = 0; i < picks; i++) {
    const item = strategy.pick({ clientIp: `10.0.${i >> 8}.${i & 255}` }, all);
    assert.ok(item);
    counts[items.indexOf(item)]!++;
  }
  return counts;
}

for (const name of names) {
  Deno.test(`${name}: an empty pool picks nothing`, () => {
    const strategy = STRATEGIES[name]([], {});
    assert.equal(strategy.pick({ clientIp: "127.0.0.1" }, all), undefined);
  });

  Deno.test(`${name}: never picks an ineligible item`, () => {
    const items = pool(1, 1, 1);
    const strategy = STRATEGIES[name](items, { random: seededRandom(1) });
    const notSecond = (item: Item) => item !== items[1];
    for (let i = 0; i < 300; i++) {
      const item = strategy.pick({ clientIp: `192.168.0.${i % 256}` }, notSecond);
      assert.ok(item && item !== items[1]);
    }
    assert.equal(strategy.pick({ clientIp: "1.2.3.4" }, () => false), undefined);
  });

  Deno.test(`${name}: with one eligible item, picks it`, () => {
    const items = pool(1, 5, 1);
    const strategy = STRATEGIES[name](items, {});
    for (let i = 0; i < 50; i++) {
      assert.equal(
        strategy.pick({ clientIp: `10.1.1.${i}` }, (item) => item === items[2]),
        items[2],
      );
    }
  });

  Deno.test(`${name}: spreads traffic in proportion to weight`, () => {
    const counts = distribution(name, pool(3, 1), 8000);
    const share = counts[0]! / 8000;
    assert.ok(Math.abs(share - 0.75) < 0.05, `share of the weight-3 item was ${share}`);
  });
}

Deno.test("round-robin: exact and smooth, as nginx", () => {
  const items = pool(5, 1, 1);
  const strategy = STRATEGIES["round-robin"](items, {});
  const order = Array.from({ length: 7 }, () => strategy.pick({ clientIp: "" }, all)!.id);
  assert.deepEqual(order, ["i0", "i0", "i1", "i0", "i2", "i0", "i0"]);
});

Deno.test("least-connections: picks the least loaded per weight", () => {
  const items = pool(1, 2, 1);
  items[0]!.state.active = 1;
  items[1]!.state.active = 1;
  items[2]!.state.active = 0;
  const strategy = STRATEGIES["least-connections"](items, {});
  assert.equal(strategy.pick({ clientIp: "" }, all), items[2]);
  items[2]!.state.active = 1;
  // 1/2 beats 1/1.
  assert.equal(strategy.pick({ clientIp: "" }, all), items[1]);
});

for (const name of ["least-connections", "least-load"] as const) {
  Deno.test(`${name}: concurrent load follows weight`, () => {
    const items = pool(2, 1);
    const strategy = STRATEGIES[name](items, {});
    for (let i = 0; i < 30; i++) {
      const item = strategy.pick({ clientIp: "" }, all)!;
      item.state.active++;
    }
    assert.deepEqual(items.map((item) => item.state.active), [20, 10]);
  });
}

/** Gives an item a backend that reports `reading` at `readAt`, and loaded models when given. */
function reports(
  item: Item,
  reading: LoadSignals["reading"],
  loaded?: string[],
  readAt = 0,
): void {
  item.backend = { load: { reading, loaded: loaded ? new Set(loaded) : undefined, readAt } };
}

/** `least-load` over `items` on a clock the test sets. */
function leastLoadAt(items: Item[], clock: { now: number }) {
  return STRATEGIES["least-load"](items, { now: () => clock.now });
}

Deno.test("least-load: the backend's own queue counts, not only the gateway's requests", () => {
  const items = pool(1, 1);
  reports(items[0]!, { running: 4, waiting: 6 });
  reports(items[1]!, { running: 1, waiting: 0 });
  items[1]!.state.active = 2;
  const strategy = STRATEGIES["least-load"](items, { now: () => 0 });
  assert.equal(strategy.pick({ clientIp: "" }, all), items[1], "2 in flight beats 10 queued");
  items[1]!.state.active = 12;
  assert.equal(strategy.pick({ clientIp: "" }, all), items[0], "a stale reading is topped up");
});

Deno.test("least-load: queue per weight, then KV-cache usage", () => {
  const items = pool(2, 1);
  reports(items[0]!, { running: 4, waiting: 0 });
  reports(items[1]!, { running: 2, waiting: 0 });
  const strategy = STRATEGIES["least-load"](items, { now: () => 0 });
  // 4/2 equals 2/1: the fuller KV cache loses.
  reports(items[0]!, { running: 4, waiting: 0, kvCacheUsage: 0.9 });
  reports(items[1]!, { running: 2, waiting: 0, kvCacheUsage: 0.2 });
  assert.equal(strategy.pick({ clientIp: "" }, all), items[1]);
});

Deno.test("least-load: prefers a backend with the model loaded, unless it is swamped", () => {
  const items = pool(1, 1);
  reports(items[0]!, {}, ["qwen3"]);
  reports(items[1]!, {}, ["llama3"]);
  const strategy = STRATEGIES["least-load"](items, { now: () => 0 });
  items[0]!.state.active = 3;
  assert.equal(strategy.pick({ clientIp: "", model: "llama3" }, all), items[1]);
  items[1]!.state.active = 3;
  assert.equal(strategy.pick({ clientIp: "", model: "llama3" }, all), items[1]);
  items[1]!.state.active = 10;
  assert.equal(strategy.pick({ clientIp: "", model: "llama3" }, all), items[0]);
});

Deno.test("least-load: loading where another model would be evicted costs more", () => {
  const items = pool(1, 1);
  reports(items[0]!, {}, ["qwen3"]);
  reports(items[1]!, {}, []);
  const strategy = STRATEGIES["least-load"](items, { now: () => 0 });
  items[1]!.state.active = 1;
  assert.equal(strategy.pick({ clientIp: "", model: "llama3" }, all), items[1], "1 + 4 < 4 + 2");
  items[1]!.state.active = 3;
  assert.equal(strategy.pick({ clientIp: "", model: "llama3" }, all), items[0]);
});

Deno.test("least-load: tokens in flight weigh in, a thousand as much as one request", () => {
  const items = pool(1, 1);
  const strategy = STRATEGIES["least-load"](items, {});
  items[0]!.state.active = 1;
  items[0]!.state.activeTokens = 4_200;
  items[1]!.state.active = 2;
  items[1]!.state.activeTokens = 300;
  assert.equal(strategy.pick({ clientIp: "" }, all), items[1], "2.3 beats 5.2");
  items[1]!.state.active = 5;
  assert.equal(strategy.pick({ clientIp: "" }, all), items[0], "5.2 beats 5.3");
});

Deno.test("least-load: a reading counts less as it ages, and not at all when old", () => {
  const clock = { now: 0 };
  const items = pool(1, 1);
  reports(items[0]!, { running: 6, waiting: 0 });
  items[1]!.state.active = 2;
  const strategy = leastLoadAt(items, clock);
  assert.equal(strategy.pick({ clientIp: "" }, all), items[1], "6 reported beats 2 in flight");
  clock.now = READING_HALF_LIFE;
  assert.equal(strategy.pick({ clientIp: "" }, all), items[1], "half of 6 is more than 2");
  clock.now = 2 * READING_HALF_LIFE;
  assert.equal(strategy.pick({ clientIp: "" }, all), items[0], "a quarter of 6 is less than 2");
  items[1]!.state.active = 0;
  clock.now = READING_MAX_AGE;
  // Now only the gateway's counts: 0 each, and the tie is broken by turns.
  const picks = [0, 1, 2, 3].map(() => strategy.pick({ clientIp: "" }, all));
  assert.deepEqual(new Set(picks), new Set(items));
});

Deno.test("least-load: reading weights: 1 fresh, 1/2 at the half-life, 0 when old", () => {
  assert.equal(readingWeight(0), 1);
  assert.equal(readingWeight(READING_HALF_LIFE), 0.5);
  assert.equal(readingWeight(2 * READING_HALF_LIFE), 0.25);
  assert.equal(readingWeight(READING_MAX_AGE - 1) > 0, true);
  assert.equal(readingWeight(READING_MAX_AGE), 0);
  assert.equal(readingWeight(-5), 1, "a reading from a clock a little ahead counts as fresh");
});

for (const name of ["ip-hash", "consistent-hash"] as const) {
  Deno.test(`${name}: one client always lands on the same item`, () => {
    const items = pool(1, 1, 1, 1);
    const strategy = STRATEGIES[name](items, {});
    for (let client = 0; client < 50; client++) {
      const first = strategy.pick({ clientIp: `172.20.0.${client}` }, all);
      for (let i = 0; i < 5; i++) {
        assert.equal(strategy.pick({ clientIp: `172.20.0.${client}` }, all), first);
      }
    }
  });

  Deno.test(`${name}: an ineligible item's clients move, the others stay`, () => {
    const items = pool(1, 1, 1, 1);
    const strategy = STRATEGIES[name](items, {});
    for (let client = 0; client < 200; client++) {
      const context = { clientIp: `10.9.${client >> 8}.${client & 255}` };
      const before = strategy.pick(context, all)!;
      const after = strategy.pick(context, (item) => item !== items[0])!;
      if (before !== items[0]) assert.equal(after, before);
      else assert.notEqual(after, items[0]);
    }
  });
}

Deno.test("consistent-hash: adding an item moves about its share of keys", () => {
  const three = pool(1, 1, 1);
  const four = [...three, { id: "i3", weight: 1, state: { active: 0 } }];
  const before = STRATEGIES["consistent-hash"](three, {});
  const after = STRATEGIES["consistent-hash"](four, {});
  let moved = 0;
  const keys = 4000;
  for (let i = 0; i < keys; i++) {
    const context = { clientIp: "", hashKey: `session-${i}` };
    const a = before.pick(context, all)!;
    const b = after.pick(context, all)!;
    if (a.id !== b.id) {
      moved++;
      assert.equal(b.id, "i3", "a key may only move to the new item");
    }
  }
  assert.ok(moved / keys > 0.15 && moved / keys < 0.35, `moved ${moved / keys}`);
});

Deno.test("consistent-hash: the hash key wins over the client IP", () => {
  const items = pool(1, 1, 1, 1, 1);
  const strategy = STRATEGIES["consistent-hash"](items, { hashAlgorithm: "sha256" });
  const picks = new Set(
    Array.from(
      { length: 40 },
      (_, i) => strategy.pick({ clientIp: `10.0.0.${i}`, hashKey: "user-42" }, all),
    ),
  );
  assert.equal(picks.size, 1);
});

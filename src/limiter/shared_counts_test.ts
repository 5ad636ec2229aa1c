import assert from "node:assert/strict";
import { KvCounterStore } from "../store/shared_counters.ts";
import type { Counter, CounterStore } from "../store/shared_counters.ts";
import { KeyedLimiters } from "./keyed_limiters.ts";
import { createLimiter, type LimiterSettings } from "./mod.ts";
import { countSpan, SharedCounts } from "./shared_counts.ts";
import { KeyedTokenBudgets } from "./token_budget.ts";
import { RateLimits } from "./rate_limits.ts";

const BUCKET: LimiterSettings = {
  algorithm: "token-bucket",
  capacity: 10,
  rate: 1,
  window: 1_000,
  warmUpPeriod: 0,
  coldFactor: 3,
};

/** One gateway's limiters of one limit, shared through `store`, on the clock `clock`. */
function gateway(store: CounterStore, clock: { now: number }) {
  const limiters = new KeyedLimiters({
    create: (now) => createLimiter(BUCKET, now),
    maxKeys: 100,
  });
  limiters.shareUse();
  const tokens = new KeyedTokenBudgets({ perMinute: 6_000, counts: "total" }, 100);
  tokens.shareUse();
  const shared = new SharedCounts(store, { interval: 250, now: () => clock.now });
  shared.share("model", "bucket", limiters, 10_000);
  shared.share("model#tokens", "6000", tokens, 60_000);
  return { limiters, tokens, shared };
}

function admitted(limiters: KeyedLimiters, key: string, now: number, count: number): number {
  let admitted = 0;
  for (let i = 0; i < count; i++) if (limiters.acquire(key, now).allowed) admitted++;
  return admitted;
}

Deno.test("a request limit counts what other gateways admitted, after a sync", async () => {
  using kv = await Deno.openKv(":memory:");
  const store = new KvCounterStore(kv);
  const clock = { now: 1_000_000 };
  const a = gateway(store, clock);
  const b = gateway(store, clock);
  assert.equal(admitted(a.limiters, "*", clock.now, 6), 6);
  assert.equal(admitted(b.limiters, "*", clock.now, 1), 1);
  await a.shared.sync();
  await b.shared.sync();
  // B has seen A's 6: of its 10, 1 + 6 are gone.
  assert.equal(admitted(b.limiters, "*", clock.now, 10), 3);
  await b.shared.sync();
  await a.shared.sync();
  // A has seen B's 1 + 3.
  assert.equal(admitted(a.limiters, "*", clock.now, 10), 0);
  clock.now += 2_000;
  assert.equal(admitted(a.limiters, "*", clock.now, 10), 2);
});

Deno.test("what others add to a window after it was read is seen at the next sync", async () => {
  using kv = await Deno.openKv(":memory:");
  const store = new KvCounterStore(kv);
  const window = countSpan(250, 10_000);
  const clock = { now: 1_000 * window - 10 };
  const a = gateway(store, clock);
  const b = gateway(store, clock);
  admitted(a.limiters, "k", clock.now, 1);
  admitted(b.limiters, "k", clock.now, 1);
  await a.shared.sync();
  await b.shared.sync(); // B adds its 1 to the window A has read already.
  clock.now += 20; // The next window.
  await a.shared.sync();
  // A has seen B's 1: 10 − 1 − 1 are left.
  assert.equal(admitted(a.limiters, "k", clock.now, 10), 8);
});

Deno.test("tokens given back elsewhere come back here too", async () => {
  using kv = await Deno.openKv(":memory:");
  const store = new KvCounterStore(kv);
  const clock = { now: 5_000_000 };
  const a = gateway(store, clock);
  const b = gateway(store, clock);
  a.tokens.budget("*", clock.now).take(4_000, clock.now);
  b.tokens.budget("*", clock.now).take(1, clock.now);
  await a.shared.sync();
  await b.shared.sync();
  assert.equal(b.tokens.peek("*", 0, clock.now).remaining, 6_000 - 4_001);
  a.tokens.budget("*", clock.now).take(-3_000, clock.now);
  await a.shared.sync();
  await b.shared.sync();
  assert.equal(b.tokens.peek("*", 0, clock.now).remaining, 6_000 - 1_001);
});

/** A store that fails while `down`, else keeps counters in a map. */
class FlakyStore implements CounterStore {
  readonly kind = "redis";
  down = false;
  readonly counts = new Map<string, number>();

  addAndRead(
    adds: readonly (Counter & { readonly amount: number })[],
    reads: readonly Counter[],
    _now: number,
  ): Promise<number[]> {
    if (this.down) return Promise.reject(new Error("connection refused"));
    for (const add of adds) {
      const key = `${add.window}|${add.name}`;
      this.counts.set(key, (this.counts.get(key) ?? 0) + add.amount);
    }
    return Promise.resolve(
      reads.map((read) => this.counts.get(`${read.window}|${read.name}`) ?? 0),
    );
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

Deno.test("a store that is down keeps the use for later and says the sync is failing", async () => {
  const store = new FlakyStore();
  const clock = { now: 9_000_000 };
  const events: string[] = [];
  const limiters = new KeyedLimiters({ create: (now) => createLimiter(BUCKET, now), maxKeys: 9 });
  limiters.shareUse();
  const shared = new SharedCounts(store, {
    interval: 250,
    now: () => clock.now,
    onFailing: (error) => events.push(`failing: ${(error as Error).message}`),
    onRecovered: () => events.push("recovered"),
  });
  shared.share("model", "bucket", limiters, 10_000);
  store.down = true;
  assert.equal(admitted(limiters, "*", clock.now, 3), 3);
  await shared.sync();
  await shared.sync();
  assert.equal(shared.status.failing, true);
  assert.equal(shared.status.failures, 2);
  assert.equal(shared.status.error, "connection refused");
  // Decisions go on from local counts.
  assert.equal(admitted(limiters, "*", clock.now, 1), 1);
  store.down = false;
  await shared.sync();
  assert.equal(shared.status.failing, false);
  assert.deepEqual(events, ["failing: connection refused", "recovered"]);
  assert.deepEqual([...store.counts.values()], [4]);
});

Deno.test("limits per client IP stay each gateway's own; the others are shared", async () => {
  const store = new FlakyStore();
  const clock = { now: 7_000_000 };
  const limits = new RateLimits();
  // One limit made before the sharing begins, one after: both are looked at.
  const perIp = limits.limitersFor({ id: "model+client-ip", scope: "client-ip", settings: BUCKET });
  const shared = new SharedCounts(store, { interval: 250, now: () => clock.now });
  limits.share(shared);
  const perKey = limits.limitersFor({ id: "model", scope: "api-key", settings: BUCKET });
  perIp.acquire("10.0.0.1", clock.now);
  perKey.acquire("k", clock.now);
  await shared.sync();
  assert.deepEqual([...store.counts.keys()].map((name) => name.split("|")[1]), ["model"]);
});

Deno.test("a gateway meeting a key afresh counts the others' use of it over the limit's memory", async () => {
  using kv = await Deno.openKv(":memory:");
  const store = new KvCounterStore(kv);
  const clock = { now: 3_000_000 };
  const perMinute: LimiterSettings = { ...BUCKET, algorithm: "sliding-window", window: 60_000 };
  const gateway = () => {
    const limits = new RateLimits();
    const shared = new SharedCounts(store, { interval: 250, now: () => clock.now });
    limits.share(shared);
    const limiters = limits.limitersFor({ id: "model", scope: "api-key", settings: perMinute });
    return { limiters, shared };
  };
  const a = gateway();
  const b = gateway();
  assert.equal(admitted(a.limiters, "k", clock.now, 10), 10);
  await a.shared.sync();
  clock.now += 20_000;
  // B meets the key a third of a minute later: one request on its own count, then it knows.
  assert.equal(admitted(b.limiters, "k", clock.now, 1), 1);
  await b.shared.sync();
  assert.equal(admitted(b.limiters, "k", clock.now, 1), 0);
});

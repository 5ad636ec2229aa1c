import assert from "node:assert/strict";
import { LimiterSnapshotStore } from "../store/mod.ts";
import { LimiterPersistence } from "./persistence.ts";
import type { RateLimitPolicy } from "./policies.ts";
import { RateLimits } from "./rate_limits.ts";
import { SharedCounts } from "./shared_counts.ts";
import { KvCounterStore } from "../store/shared_counters.ts";

const POLICY: RateLimitPolicy = {
  id: "services.chat",
  scope: "client-ip",
  settings: {
    algorithm: "token-bucket",
    capacity: 5,
    rate: 1,
    window: 1_000,
    warmUpPeriod: 10_000,
    coldFactor: 3,
  },
};
const NOW = 1_700_000_000_000;

/** The persistence of gateway `owner` over `kv`. */
function persistence(kv: Deno.Kv, owner: string): LimiterPersistence {
  return new LimiterPersistence(new LimiterSnapshotStore(kv, owner));
}

Deno.test("saved limiters come back with their budget spent", async () => {
  using kv = await Deno.openKv(":memory:");
  const before = new RateLimits();
  const limiters = before.limitersFor(POLICY);
  for (let i = 0; i < 4; i++) limiters.acquire("198.51.100.1", NOW);
  limiters.acquire("198.51.100.2", NOW);
  assert.equal(await persistence(kv, "gateway-a").save(before, NOW), 2);

  const after = new RateLimits();
  after.limitersFor(POLICY);
  assert.equal(await persistence(kv, "gateway-a").restore(after, NOW + 500), 2);
  const restored = after.limitersFor(POLICY);
  assert.equal(restored.peek("198.51.100.1", NOW + 500).remaining, 0, "1.5 tokens: 1 after this");
  assert.equal(restored.peek("198.51.100.2", NOW + 500).remaining, 3, "4.5 tokens: 3.5 after");
  assert.equal(restored.peek("198.51.100.3", NOW + 500).remaining, 4, "a new client is fresh");
});

Deno.test("limiters of a changed or removed limit are not restored", async () => {
  using kv = await Deno.openKv(":memory:");
  const before = new RateLimits();
  before.limitersFor(POLICY).acquire("198.51.100.1", NOW);
  await persistence(kv, "gateway-a").save(before, NOW);

  const changed = new RateLimits();
  changed.limitersFor({ ...POLICY, settings: { ...POLICY.settings, capacity: 9 } });
  assert.equal(await persistence(kv, "gateway-a").restore(changed, NOW), 0);
  assert.equal(await persistence(kv, "gateway-a").restore(new RateLimits(), NOW), 0);
});

Deno.test("token budgets are saved and restored with the limiters, unless their limit changed", async () => {
  using kv = await Deno.openKv(":memory:");
  const policy = {
    id: "services.chat#tokens",
    scope: "api-key" as const,
    settings: { perMinute: 600, counts: "total" as const },
  };
  const before = new RateLimits();
  before.budgetsFor(policy).budget("alice", NOW).take(500, NOW);
  before.limitersFor(POLICY).acquire("198.51.100.1", NOW);
  assert.equal(await persistence(kv, "gateway-a").save(before, NOW), 2);

  const after = new RateLimits();
  after.limitersFor(POLICY);
  const budgets = after.budgetsFor(policy);
  assert.equal(await persistence(kv, "gateway-a").restore(after, NOW + 500), 2);
  assert.equal(budgets.budget("alice", NOW + 500).available(NOW + 500), 105, "100, and 0.5 s");

  const changed = new RateLimits();
  const other = changed.budgetsFor({ ...policy, settings: { ...policy.settings, perMinute: 700 } });
  assert.equal(await persistence(kv, "gateway-a").restore(changed, NOW), 0);
  assert.equal(other.size, 0);
});

Deno.test("after a restart, a limit shared through the store counts the use before it once, from the store", async () => {
  using kv = await Deno.openKv(":memory:");
  const store = new KvCounterStore(kv);
  const now = NOW;
  const tokens = {
    id: "services.chat#tokens",
    scope: "service" as const,
    settings: { perMinute: 1000, counts: "total" as const },
  };
  const first = new RateLimits();
  const firstCounts = new SharedCounts(store, { interval: 250, now: () => now });
  first.share(firstCounts);
  first.budgetsFor(tokens).budget("*", now).take(900, now);
  first.limitersFor(POLICY).acquire("198.51.100.1", now);
  await firstCounts.sync();
  assert.equal(
    await persistence(kv, "gateway-a").save(first, now),
    1,
    "the client-IP limiter only",
  );

  const second = new RateLimits();
  const secondCounts = new SharedCounts(store, { interval: 250, now: () => now });
  second.share(secondCounts);
  second.limitersFor(POLICY);
  const budgets = second.budgetsFor(tokens);
  assert.equal(await persistence(kv, "gateway-a").restore(second, now), 1);
  budgets.budget("*", now).take(1, now);
  await secondCounts.sync();
  assert.equal(budgets.peek("*", 0, now).remaining, 1000 - 900 - 1, "900 counted once");
});

Deno.test("gateways sharing a store keep their limiters apart", async () => {
  using kv = await Deno.openKv(":memory:");
  const a = new RateLimits();
  a.limitersFor(POLICY).acquire("198.51.100.1", NOW);
  await persistence(kv, "gateway-a").save(a, NOW);
  const b = new RateLimits();
  b.limitersFor(POLICY);
  assert.equal(await persistence(kv, "gateway-b").restore(b, NOW), 0);
});

Deno.test("many limiters are written in chunks, and a smaller save removes the extra ones", async () => {
  using kv = await Deno.openKv(":memory:");
  const limits = new RateLimits();
  const limiters = limits.limitersFor(POLICY);
  for (let i = 0; i < 5_000; i++) limiters.acquire(`client-${i}`, NOW);
  const gateway = persistence(kv, "gateway-a");
  assert.equal(await gateway.save(limits, NOW), 5_000);
  const chunks = async () => {
    let count = 0;
    for await (const _ of kv.list({ prefix: ["switchyard", "limiters", "gateway-a"] })) count++;
    return count;
  };
  const many = await chunks();
  assert.ok(many > 1, `${many} chunks`);

  // Five seconds on, every bucket has refilled: nothing is left to save.
  assert.equal(await gateway.save(limits, NOW + 5_000), 0);
  assert.equal(await chunks(), 0);
});

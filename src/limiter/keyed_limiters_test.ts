import assert from "node:assert/strict";
import { KeyedLimiters } from "./keyed_limiters.ts";
import type { Decision, Limiter, LimiterSettings, LimiterState } from "./types.ts";

const SETTINGS: LimiterSettings = {
  algorithm: "token-bucket",
  capacity: 3,
  rate: 1,
  window: 1_000,
  warmUpPeriod: 0,
  coldFactor: 3,
};

/** Admits 3 requests, then refuses until it has gone 1000 ms without one, when it is fresh. */
class CountingLimiter implements Limiter {
  readonly settings = SETTINGS;
  #count: number;
  #lastUse: number;

  constructor(saved?: LimiterState) {
    this.#count = typeof saved?.count === "number" ? saved.count : 0;
    this.#lastUse = typeof saved?.lastUse === "number" ? saved.lastUse : 0;
  }

  acquire(now: number): Decision {
    const decision = this.peek(now);
    if (decision.allowed) {
      this.#count = this.#countAt(now) + 1;
      this.#lastUse = now;
    }
    return decision;
  }

  peek(now: number): Decision {
    const count = this.#countAt(now);
    const allowed = count < 3;
    const reset = count === 0 ? 0 : this.idleFrom() - now;
    return {
      allowed,
      delay: 0,
      remaining: allowed ? 2 - count : 0,
      reset,
      retryAfter: allowed ? 0 : reset,
    };
  }

  charge(count: number, now: number): void {
    this.#count = this.#countAt(now) + count;
    this.#lastUse = now;
  }

  idleFrom(): number {
    return this.#count === 0 ? -Infinity : this.#lastUse + 1_000;
  }

  save(): LimiterState {
    return { count: this.#count, lastUse: this.#lastUse };
  }

  #countAt(now: number): number {
    return now >= this.idleFrom() ? 0 : this.#count;
  }
}

function limiters(maxKeys = 1_000_000): { keyed: KeyedLimiters; created: () => number } {
  let created = 0;
  const keyed = new KeyedLimiters({
    create: (_now, saved) => {
      created++;
      return new CountingLimiter(saved);
    },
    maxKeys,
  });
  return { keyed, created: () => created };
}

Deno.test("a key's limiter is made on first use and kept", () => {
  const { keyed, created } = limiters();
  assert.equal(keyed.acquire("a", 0).allowed, true);
  assert.equal(keyed.acquire("a", 1).remaining, 1);
  assert.equal(keyed.acquire("a", 2).allowed, true);
  assert.equal(keyed.acquire("a", 3).allowed, false);
  assert.equal(keyed.size, 1);
  assert.equal(created(), 1);
});

Deno.test("each key has a limiter of its own", () => {
  const { keyed } = limiters();
  for (let i = 0; i < 3; i++) keyed.acquire("a", 0);
  assert.equal(keyed.acquire("a", 0).allowed, false);
  assert.equal(keyed.acquire("b", 0).allowed, true);
  assert.equal(keyed.size, 2);
});

Deno.test("peeking at a key without a limiter answers as a fresh one and keeps nothing", () => {
  const { keyed, created } = limiters();
  assert.deepEqual(keyed.peek("a", 0), new CountingLimiter().peek(0));
  assert.equal(keyed.size, 0);
  assert.equal(keyed.has("a"), false);
  assert.equal(created(), 1);
});

Deno.test("peeking counts nothing and does not change the order of use", () => {
  const { keyed } = limiters(2);
  keyed.acquire("a", 0);
  keyed.acquire("b", 0);
  assert.equal(keyed.peek("a", 0).remaining, 1);
  assert.equal(keyed.peek("a", 0).remaining, 1);
  keyed.acquire("c", 0);
  assert.deepEqual([...keyed.keys()], ["b", "c"], "a was least recently used despite the peeks");
});

Deno.test("at the cap the least recently used key goes, even when not idle, and is counted", () => {
  const { keyed } = limiters(3);
  keyed.acquire("a", 0);
  keyed.acquire("b", 0);
  keyed.acquire("c", 0);
  keyed.acquire("a", 1);
  keyed.acquire("d", 2);
  assert.deepEqual([...keyed.keys()], ["c", "a", "d"]);
  assert.equal(keyed.forcedEvictions, 1);
  keyed.acquire("e", 3);
  assert.deepEqual([...keyed.keys()], ["a", "d", "e"]);
  assert.equal(keyed.forcedEvictions, 2);
});

Deno.test("a limiter dropped at the cap while idle is not a forced eviction", () => {
  const { keyed } = limiters(2);
  keyed.acquire("a", 0);
  keyed.acquire("b", 0);
  keyed.acquire("c", 1_000);
  assert.deepEqual([...keyed.keys()], ["c"], "both idle limiters were swept");
  assert.equal(keyed.forcedEvictions, 0);
});

Deno.test("100,000 keys used once each on an advancing clock keep only the recent ones", () => {
  const { keyed } = limiters();
  let largest = 0;
  for (let i = 0; i < 100_000; i++) {
    keyed.acquire(`client-${i}`, i);
    largest = Math.max(largest, keyed.size);
  }
  assert.ok(largest <= 1_001, `at most the keys of the last second, not ${largest}`);
  assert.equal(keyed.forcedEvictions, 0);
  assert.equal(keyed.has("client-99999"), true);
  assert.equal(keyed.has("client-0"), false);
});

Deno.test("with a cap and no limiter ever idle, the keys kept never exceed the cap", () => {
  const { keyed } = limiters(100_000);
  let largest = 0;
  for (let i = 0; i < 300_000; i++) {
    keyed.acquire(`client-${i}`, 0);
    largest = Math.max(largest, keyed.size);
  }
  assert.equal(largest, 100_000);
  assert.equal(keyed.forcedEvictions, 200_000);
  assert.equal(keyed.has("client-199999"), false);
  assert.equal(keyed.has("client-200000"), true);
});

Deno.test("sweeping stops at the least recently used limiter that is not idle yet", () => {
  const { keyed } = limiters();
  keyed.acquire("busy", 0);
  keyed.acquire("quiet", 0);
  keyed.acquire("busy", 900);
  keyed.acquire("new", 1_500);
  assert.deepEqual([...keyed.keys()], ["busy", "new"], "quiet was idle and swept");
  keyed.acquire("newer", 1_600);
  assert.deepEqual([...keyed.keys()], ["busy", "new", "newer"], "busy is not idle before 1900");
  keyed.acquire("newest", 2_600);
  assert.deepEqual([...keyed.keys()], ["newer", "newest"], "busy and new were idle");
});

Deno.test("an idle backlog shrinks as new keys come", () => {
  const { keyed } = limiters();
  for (let i = 0; i < 100; i++) keyed.acquire(`old-${i}`, 0);
  for (let i = 0; i < 50; i++) keyed.acquire(`new-${i}`, 1_000);
  assert.equal(keyed.size, 50, "each new key swept two idle ones");
});

Deno.test("a kept limiter that went idle is used again as it is", () => {
  const { keyed, created } = limiters();
  for (let i = 0; i < 3; i++) keyed.acquire("a", 0);
  assert.equal(keyed.acquire("a", 1_000).allowed, true);
  assert.equal(created(), 1);
});

Deno.test("entries are the limiters not yet idle, least recently used first", () => {
  const { keyed } = limiters();
  keyed.acquire("old", 0);
  keyed.acquire("b", 500);
  keyed.acquire("a", 600);
  keyed.acquire("b", 700);
  assert.deepEqual(keyed.entries(1_000), [
    { key: "a", state: { count: 1, lastUse: 600 }, idleFrom: 1_600 },
    { key: "b", state: { count: 2, lastUse: 700 }, idleFrom: 1_700 },
  ]);
});

Deno.test("restoring the entries gives back the same limiters in the same order of use", () => {
  const { keyed: before } = limiters();
  before.acquire("a", 0);
  before.acquire("b", 100);
  before.acquire("a", 200);
  const { keyed: after } = limiters();
  for (const { key, state } of before.entries(300)) after.restore(key, state, 300);
  assert.deepEqual([...after.keys()], ["b", "a"]);
  assert.deepEqual(after.peek("a", 300), before.peek("a", 300));
  assert.deepEqual(after.entries(300), before.entries(300));
});

Deno.test("restoring a state that is already idle keeps no limiter", () => {
  const { keyed } = limiters();
  keyed.acquire("a", 0);
  keyed.restore("a", { count: 2, lastUse: 0 }, 1_000);
  keyed.restore("b", { count: 2, lastUse: 0 }, 1_000);
  assert.equal(keyed.size, 0);
});

Deno.test("restoring replaces the key's limiter and makes it the most recently used", () => {
  const { keyed } = limiters();
  keyed.acquire("a", 0);
  keyed.acquire("b", 0);
  keyed.restore("a", { count: 3, lastUse: 0 }, 10);
  assert.deepEqual([...keyed.keys()], ["b", "a"]);
  assert.equal(keyed.acquire("a", 10).allowed, false);
});

Deno.test("delete drops one key and clear drops them all, keeping the eviction count", () => {
  const { keyed } = limiters(2);
  keyed.acquire("a", 0);
  keyed.acquire("b", 0);
  keyed.acquire("c", 0);
  assert.equal(keyed.delete("b"), true);
  assert.equal(keyed.delete("b"), false);
  assert.deepEqual([...keyed.keys()], ["c"]);
  keyed.clear();
  assert.equal(keyed.size, 0);
  assert.deepEqual([...keyed.keys()], []);
  assert.equal(keyed.forcedEvictions, 1);
  keyed.acquire("d", 0);
  assert.deepEqual([...keyed.keys()], ["d"]);
});

Deno.test("a factory that throws leaves the kept limiters as they were", () => {
  const keyed = new KeyedLimiters({
    create: () => {
      throw new RangeError("bad settings");
    },
    maxKeys: 1,
  });
  assert.throws(() => keyed.acquire("a", 0), RangeError);
  assert.equal(keyed.size, 0);
});

Deno.test("maxKeys must be a whole number of at least 1", () => {
  const create = () => new CountingLimiter();
  for (const maxKeys of [0, -1, 1.5, Number.NaN, Infinity]) {
    assert.throws(() => new KeyedLimiters({ create, maxKeys }), RangeError, String(maxKeys));
  }
  assert.equal(new KeyedLimiters({ create, maxKeys: 1 }).maxKeys, 1);
});

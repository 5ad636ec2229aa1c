/**
 * One contract for every limiter algorithm, over simulated time: refusals count nothing, peek
 * is a pure acquire, idleFrom and save/restore are exact, bad saved states are ignored, and
 * remaining and reset tell the truth.
 */
import assert from "node:assert/strict";
import {
  createLimiter,
  type Decision,
  type Limiter,
  LIMITER_ALGORITHMS,
  type LimiterAlgorithm,
  type LimiterSettings,
  type LimiterState,
} from "./mod.ts";
import { leakyBucket } from "./leaky_bucket.ts";
import { slidingWindow } from "./sliding_window.ts";
import { tokenBucket } from "./token_bucket.ts";
import { warmUp } from "./warm_up.ts";
import { seededRandom } from "../lib/seeded_random.ts";

const FACTORIES = {
  "token-bucket": tokenBucket,
  "leaky-bucket": leakyBucket,
  "sliding-window": slidingWindow,
  "warm-up": warmUp,
} as const;

/**
 * Settings to run the contract under: round numbers, then numbers with no exact binary
 * fraction, where float drift would show.
 */
function profilesFor(algorithm: LimiterAlgorithm): LimiterSettings[] {
  return [
    { algorithm, capacity: 3, rate: 2.5, window: 1_000, warmUpPeriod: 2_000, coldFactor: 3 },
    { algorithm, capacity: 4, rate: 3, window: 700, warmUpPeriod: 1_234, coldFactor: 2.7 },
  ];
}

/**
 * Request times from `start` on: bursts at one instant, short gaps and long pauses mixed, so
 * every limiter is seen full, empty and in between.
 */
function traffic(seed: number, start: number, count: number): number[] {
  const random = seededRandom(seed);
  const times: number[] = [];
  let now = start;
  for (let i = 0; i < count; i++) {
    const roll = random();
    if (roll < 0.35) now += 0;
    else if (roll < 0.85) now += random() * 400;
    else now += random() * 4_000;
    times.push(now);
  }
  return times;
}

/** Acquires at each time, returning every decision. */
function drive(limiter: Limiter, times: readonly number[]): Decision[] {
  return times.map((now) => limiter.acquire(now));
}

/** Acquires at `now` until refused (at most `limit` times), returning every decision. */
function drain(limiter: Limiter, now: number, limit = 100): Decision[] {
  const decisions: Decision[] = [];
  for (let i = 0; i < limit; i++) {
    const decision = limiter.acquire(now);
    decisions.push(decision);
    if (!decision.allowed) return decisions;
  }
  throw new Error(`still admitting after ${limit} requests at one instant`);
}

/** A limiter after some traffic, and the time of its last request. */
function used(settings: LimiterSettings, seed: number): { limiter: Limiter; now: number } {
  const limiter = createLimiter(settings, 0);
  const times = traffic(seed, 0, 40);
  drive(limiter, times);
  return { limiter, now: times.at(-1)! };
}

/** A JSON round trip, as a state saved to disk or KV makes. */
function throughJson(state: LimiterState): LimiterState {
  return JSON.parse(JSON.stringify(state)) as LimiterState;
}

for (const algorithm of LIMITER_ALGORITHMS) {
  const profiles = profilesFor(algorithm);

  Deno.test(`${algorithm}: createLimiter builds the algorithm its settings name`, () => {
    for (const settings of profiles) {
      const limiter = createLimiter(settings, 0);
      const direct = FACTORIES[algorithm](settings, 0);
      assert.equal(limiter.settings, settings);
      const times = traffic(0, 0, 100);
      assert.deepEqual(drive(limiter, times), drive(direct, times));
      assert.deepEqual(limiter.save(), direct.save());
    }
  });

  Deno.test(`${algorithm}: a refusal has a positive retryAfter and counts nothing`, () => {
    for (const settings of profiles) {
      const limiter = createLimiter(settings, 0);
      const twin = createLimiter(settings, 0);
      const decisions = drain(limiter, 100);
      drain(twin, 100);
      const refusal = decisions.at(-1)!;
      assert.equal(refusal.allowed, false);
      assert.ok(refusal.retryAfter > 0, `retryAfter was ${refusal.retryAfter}`);
      assert.equal(refusal.remaining, 0);
      assert.equal(refusal.delay, 0);
      for (const now of [100, 100, 101, 100 + refusal.retryAfter / 2]) {
        assert.equal(limiter.acquire(now).allowed, false);
      }
      const later = traffic(1, 100 + refusal.retryAfter, 60);
      assert.deepEqual(drive(limiter, later), drive(twin, later));
    }
  });

  Deno.test(`${algorithm}: a request is admitted exactly retryAfter after a refusal`, () => {
    for (const settings of profiles) {
      for (const seed of [1, 2, 3, 4, 5]) {
        const { limiter, now } = used(settings, seed);
        drain(limiter, now);
        const { retryAfter } = limiter.peek(now);
        assert.equal(limiter.peek(now + retryAfter - 0.01).allowed, false);
        assert.equal(limiter.acquire(now + retryAfter).allowed, true);
      }
    }
  });

  Deno.test(`${algorithm}: peek answers what acquire would and changes nothing`, () => {
    for (const settings of profiles) {
      const limiter = createLimiter(settings, 0);
      for (const now of traffic(2, 0, 200)) {
        const before = limiter.save();
        const peeked = limiter.peek(now);
        assert.deepEqual(limiter.peek(now), peeked);
        assert.deepEqual(limiter.save(), before);
        assert.deepEqual(limiter.acquire(now), peeked);
      }
    }
  });

  Deno.test(`${algorithm}: from idleFrom on it decides exactly as a fresh limiter`, () => {
    for (const settings of profiles) {
      for (let seed = 100; seed < 140; seed++) {
        const { limiter } = used(settings, seed);
        const idleFrom = limiter.idleFrom();
        const fresh = createLimiter(settings, idleFrom);
        const after = traffic(seed + 1_000, idleFrom, 60);
        assert.deepEqual(drive(limiter, after), drive(fresh, after));
      }
    }
  });

  Deno.test(`${algorithm}: just before idleFrom it is not yet as a fresh limiter`, () => {
    for (const settings of profiles) {
      for (const seed of [3, 4, 5]) {
        const { limiter } = used(settings, seed);
        const before = limiter.idleFrom() - 1;
        assert.notDeepEqual(limiter.peek(before), createLimiter(settings, before).peek(before));
      }
    }
  });

  Deno.test(`${algorithm}: a fresh limiter is idle from when it was built`, () => {
    for (const settings of profiles) {
      assert.ok(createLimiter(settings, 5_000).idleFrom() <= 5_000);
    }
  });

  Deno.test(`${algorithm}: a limiter restored from save() decides exactly as the original`, () => {
    for (const settings of profiles) {
      for (const seed of [9, 10, 11, 12]) {
        const original = createLimiter(settings, 0);
        const times = traffic(seed, 0, 120);
        const saves: LimiterState[] = [];
        const decisions = times.map((now) => {
          const decision = original.acquire(now);
          saves.push(throughJson(original.save()));
          return decision;
        });
        for (let i = 0; i < times.length; i += 7) {
          const restored = createLimiter(settings, times[i]!, saves[i]);
          assert.deepEqual(restored.save(), saves[i]);
          assert.deepEqual(drive(restored, times.slice(i + 1)), decisions.slice(i + 1));
        }
        assert.equal(
          createLimiter(settings, times.at(-1)!, saves.at(-1)).idleFrom(),
          original.idleFrom(),
        );
      }
    }
  });

  Deno.test(`${algorithm}: a malformed or foreign saved state gives a fresh limiter`, () => {
    for (const settings of profiles) {
      const { limiter, now } = used(settings, 13);
      drain(limiter, now);
      const valid = limiter.save();
      const fresh = () => createLimiter(settings, now);
      assert.notDeepEqual(createLimiter(settings, now, valid).peek(now), fresh().peek(now));

      const bad: unknown[] = [
        undefined,
        null,
        "token-bucket",
        42,
        [],
        [1, 2, 3],
        {},
        { ...valid, kind: undefined },
        { ...valid, v: 2 },
        { ...valid, v: "1" },
      ];
      for (const other of LIMITER_ALGORITHMS) {
        if (other === algorithm) continue;
        const foreign = createLimiter({ ...settings, algorithm: other }, 0);
        drain(foreign, 0);
        bad.push(foreign.save(), { ...foreign.save(), ...valid, kind: foreign.save()["kind"] });
      }
      for (const [field, value] of Object.entries(valid)) {
        const broken: unknown[] = [NaN, Infinity, -Infinity, -1, "1", null, undefined, {}, [NaN]];
        if (Array.isArray(value)) {
          broken.push(7, [...value, NaN], [...value, -5], [-1, ...value], [...value, "x"]);
          if (value.length >= 2) broken.push([...value].reverse());
        } else {
          broken.push([value]);
        }
        for (const replacement of broken) bad.push({ ...valid, [field]: replacement });
        const { [field]: _missing, ...without } = valid;
        bad.push(without);
      }

      const times = traffic(14, now, 60);
      const expected = drive(fresh(), times);
      for (const state of bad) {
        const limiter = createLimiter(settings, now, state as LimiterState);
        assert.deepEqual(drive(limiter, times), expected, `from ${JSON.stringify(state)}`);
      }
    }
  });

  Deno.test(`${algorithm}: remaining counts exactly the requests still admitted at once`, () => {
    for (const settings of profiles) {
      for (const seed of [15, 16, 17, 18, 19, 20, 21, 22]) {
        const limiter = createLimiter(settings, 0);
        for (const now of traffic(seed, 0, 60)) {
          const decision = limiter.acquire(now);
          if (!decision.allowed) continue;
          const probe = createLimiter(settings, now, limiter.save());
          const further = drain(probe, now);
          assert.equal(further.length - 1, decision.remaining, `at ${now}`);
          further.slice(0, -1).forEach((next, i) => {
            assert.equal(next.remaining, decision.remaining - 1 - i);
          });
        }
      }
    }
  });

  Deno.test(`${algorithm}: reset is the time until the limiter is as good as fresh`, () => {
    for (const settings of profiles) {
      for (const seed of [23, 24, 25]) {
        const limiter = createLimiter(settings, 0);
        for (const now of traffic(seed, 0, 60)) {
          const decision = limiter.acquire(now);
          const idleFrom = limiter.idleFrom();
          assert.ok(decision.reset >= 0);
          assertClose(now + decision.reset, Math.max(now, idleFrom), `at ${now}`);
        }
        const { limiter: other, now } = used(settings, seed);
        const { reset } = other.peek(now);
        const fresh = createLimiter(settings, now + reset);
        const after = traffic(seed, now + reset, 40);
        assert.deepEqual(drive(other, after), drive(fresh, after));
      }
    }
  });

  Deno.test(`${algorithm}: a charge of n counts as n requests admitted at that time`, () => {
    for (const settings of profiles) {
      for (const seed of [1, 2, 3]) {
        const { limiter: charged, now } = used(settings, seed);
        const { limiter: acquired } = used(settings, seed);
        const room = charged.peek(now + 5_000).allowed ? charged.peek(now + 5_000).remaining : 0;
        const count = Math.min(2, room + 1);
        charged.charge(count, now + 5_000);
        for (let i = 0; i < count; i++) assert.ok(acquired.acquire(now + 5_000).allowed);
        const later = traffic(seed + 10, now + 5_000, 60);
        const chargedDecisions = drive(charged, later);
        const acquiredDecisions = drive(acquired, later);
        for (const [i, decision] of chargedDecisions.entries()) {
          assert.equal(decision.allowed, acquiredDecisions[i]!.allowed, `request ${i}`);
        }
      }
    }
  });

  Deno.test(`${algorithm}: a charge past the room left refuses until the excess is back`, () => {
    for (const settings of profiles) {
      const full = createLimiter(settings, 0);
      full.charge(settings.capacity, 0);
      const { retryAfter: atCapacity } = full.peek(0);
      const over = createLimiter(settings, 0);
      over.charge(settings.capacity + 2, 0);
      const refusal = over.peek(0);
      assert.equal(refusal.allowed, false);
      if (algorithm === "sliding-window") {
        // A window never counts more than its capacity: the excess is over-admission already.
        assert.equal(refusal.retryAfter, atCapacity);
      } else {
        assert.ok(refusal.retryAfter > atCapacity, `${refusal.retryAfter} ≤ ${atCapacity}`);
      }
      assert.equal(over.acquire(refusal.retryAfter).allowed, true);
    }
  });

  Deno.test(`${algorithm}: refuses settings it cannot work with`, () => {
    for (const settings of profiles) {
      for (const capacity of [0, -1, 1.5, NaN, Infinity]) {
        assert.throws(() => createLimiter({ ...settings, capacity }, 0), RangeError);
      }
    }
  });
}

function assertClose(actual: number, expected: number, message: string): void {
  assert.ok(Math.abs(actual - expected) < 1e-6, `${message}: ${actual} is not ${expected}`);
}

import assert from "node:assert/strict";
import { newInstanceState } from "../registry/state.ts";
import {
  ejectionAllowed,
  ejectionCap,
  type EjectionPeer,
  isEjected,
  recordFailure,
  recordSuccess,
} from "./outlier.ts";
import type { OutlierSettings } from "./settings.ts";

const SETTINGS: OutlierSettings = {
  enabled: true,
  consecutiveFailures: 3,
  baseEjectionTime: 1_000,
  maxEjectionTime: 2_500,
  maxEjectionPercent: 10,
};
const NEVER_PROBED = { lastOkAt: 0 };
const ANSWERED_500 = { reason: "answered 500", unreachable: false };
const REFUSED = { reason: "connection refused", unreachable: true };

function failTimes(
  state: ReturnType<typeof newInstanceState>,
  times: number,
  now: number,
  failure = ANSWERED_500,
): boolean {
  let ejected = false;
  for (let i = 0; i < times; i++) {
    ejected = recordFailure(state, failure, { settings: SETTINGS, health: NEVER_PROBED, now });
  }
  return ejected;
}

Deno.test("consecutive failures eject the instance for the base ejection time", () => {
  const state = newInstanceState();
  assert.equal(failTimes(state, 2, 0), false);
  assert.equal(isEjected(state, NEVER_PROBED, 0), false);
  assert.equal(failTimes(state, 1, 100), true);
  assert.equal(isEjected(state, NEVER_PROBED, 100), true);
  assert.equal(isEjected(state, NEVER_PROBED, 1_099), true);
  assert.equal(isEjected(state, NEVER_PROBED, 1_100), false);
  assert.match(state.ejection!.reason, /3 requests in a row failed, the last: answered 500/);
});

Deno.test("a success resets the run of failures", () => {
  const state = newInstanceState();
  failTimes(state, 2, 0);
  recordSuccess(state);
  assert.equal(failTimes(state, 2, 0), false);
  assert.equal(isEjected(state, NEVER_PROBED, 0), false);
});

Deno.test("each ejection in a series lasts longer, up to the cap", () => {
  const state = newInstanceState();
  failTimes(state, 3, 0);
  assert.equal(state.ejection!.until, 1_000);
  failTimes(state, 3, 1_000);
  assert.equal(state.ejection!.until, 1_000 + 2_000);
  failTimes(state, 3, 3_000);
  assert.equal(state.ejection!.until, 3_000 + 2_500, "capped at max-ejection-time");
});

Deno.test("a series is forgotten after max-ejection-time without an ejection", () => {
  const state = newInstanceState();
  failTimes(state, 3, 0);
  failTimes(state, 3, 1_000);
  assert.equal(state.ejections, 2);
  failTimes(state, 3, 3_000 + 2_500);
  assert.equal(state.ejections, 1);
  assert.equal(state.ejection!.until, 5_500 + 1_000);
});

Deno.test("failures of requests in flight while ejected do not extend the ejection", () => {
  const state = newInstanceState();
  failTimes(state, 3, 0);
  assert.equal(failTimes(state, 5, 500), false);
  assert.equal(state.ejection!.until, 1_000);
  assert.equal(state.consecutiveFailures, 0);
});

Deno.test("an unreachable instance is back once a probe reaches its backend again", () => {
  const state = newInstanceState();
  failTimes(state, 3, 100, REFUSED);
  assert.equal(isEjected(state, { lastOkAt: 50 }, 200), true, "a probe before the ejection");
  assert.equal(isEjected(state, { lastOkAt: 150 }, 200), false);
});

Deno.test("an instance ejected for 5xx answers waits out its ejection despite good probes", () => {
  const state = newInstanceState();
  failTimes(state, 3, 100);
  assert.equal(isEjected(state, { lastOkAt: 150 }, 200), true);
});

Deno.test("disabled outlier detection never ejects", () => {
  const state = newInstanceState();
  for (let i = 0; i < 10; i++) {
    recordFailure(state, ANSWERED_500, {
      settings: { ...SETTINGS, enabled: false },
      health: NEVER_PROBED,
      now: 0,
    });
  }
  assert.equal(isEjected(state, NEVER_PROBED, 0), false);
});

Deno.test("the ejection cap is the share rounded down, at least one, never the whole pool", () => {
  assert.equal(ejectionCap(1, 10), 0, "a pool of one is never ejected");
  assert.equal(ejectionCap(2, 10), 1);
  assert.equal(ejectionCap(2, 100), 1);
  assert.equal(ejectionCap(10, 10), 1);
  assert.equal(ejectionCap(25, 10), 2);
  assert.equal(ejectionCap(10, 0), 1, "one ejection is always allowed");
  assert.equal(ejectionCap(10, 100), 9);
});

/** A pool of `size` instances, each the others' peer, whose backends were never probed. */
function pool(size: number, maxEjectionPercent: number) {
  const healths = Array.from({ length: size }, () => ({ lastOkAt: 0 }));
  const peers: EjectionPeer[] = healths.map((health) => ({
    state: newInstanceState(),
    backend: { health },
  }));
  const settings = { ...SETTINGS, maxEjectionPercent };
  const fail = (index: number, now: number, failure = ANSWERED_500): boolean => {
    let ejected = false;
    for (let i = 0; i < settings.consecutiveFailures; i++) {
      ejected = recordFailure(peers[index]!.state, failure, {
        settings,
        health: healths[index]!,
        now,
        mayEject: () => ejectionAllowed(peers, maxEjectionPercent, now),
      });
    }
    return ejected;
  };
  const ejectedAt = (now: number) =>
    peers.filter((peer) => isEjected(peer.state, peer.backend.health, now)).length;
  return { peers, healths, fail, ejectedAt };
}

Deno.test("two failing instances: the second stays in rotation while the first is out", () => {
  const { peers, fail, ejectedAt } = pool(2, 10);
  assert.equal(fail(0, 0), true);
  assert.equal(fail(1, 10), false, "ejecting it would empty the pool");
  assert.equal(ejectedAt(10), 1);
  assert.equal(peers[1]!.state.consecutiveFailures, 0, "its run of failures starts over");
  assert.equal(fail(1, 1_000), true, "once the first is back, the second may go");
  assert.equal(ejectedAt(1_000), 1);
});

Deno.test("a pool of one is never ejected by outlier detection", () => {
  const { fail, ejectedAt } = pool(1, 100);
  assert.equal(fail(0, 0), false);
  assert.equal(ejectedAt(0), 0);
});

Deno.test("max-ejection-percent caps the ejected share of a larger pool", () => {
  const { fail, ejectedAt } = pool(10, 30);
  for (let i = 0; i < 10; i++) fail(i, 0);
  assert.equal(ejectedAt(0), 3);
});

Deno.test("a peer back after a good probe frees its place under the cap", () => {
  const { healths, fail } = pool(2, 10);
  fail(0, 100, REFUSED);
  assert.equal(fail(1, 200), false);
  healths[0]!.lastOkAt = 250;
  assert.equal(fail(1, 300), true);
});

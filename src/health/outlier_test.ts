import assert from "node:assert/strict";
import { newInstanceState } from "../registry/state.ts";
import { isEjected, recordFailure, recordSuccess } from "./outlier.ts";
import type { OutlierSettings } from "./settings.ts";

const SETTINGS: OutlierSettings = {
  enabled: true,
  consecutiveFailures: 3,
  baseEjectionTime: 1_000,
  maxEjectionTime: 2_500,
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

import assert from "node:assert/strict";
import { type BreakerSettings, type BreakerStatus, CircuitBreaker } from "./breaker.ts";

const SETTINGS: BreakerSettings = {
  enabled: true,
  failureThreshold: 3,
  timeout: 1_000,
  successThreshold: 2,
  halfOpenMaxProbes: 1,
};
const START = Date.parse("2030-01-01T00:00:00.000Z");

function failTimes(breaker: CircuitBreaker, times: number, now: number): void {
  for (let i = 0; i < times; i++) breaker.onFailure(now);
}

/** A breaker that opened at START and is half-open from START + timeout. */
function openedBreaker(settings: Partial<BreakerSettings> = {}): CircuitBreaker {
  const breaker = new CircuitBreaker({ ...SETTINGS, ...settings });
  failTimes(breaker, breaker.settings.failureThreshold, START);
  assert.equal(breaker.status(START), "open");
  return breaker;
}

Deno.test("a closed breaker lets every request through", () => {
  const breaker = new CircuitBreaker(SETTINGS);
  assert.equal(breaker.status(START), "closed");
  for (let i = 0; i < 10; i++) assert.equal(breaker.admit(START), true);
  assert.equal(breaker.canPass(START), true);
  assert.equal(breaker.msUntilRetry(START), 0);
});

Deno.test("the breaker opens after failure-threshold failures in a row", () => {
  const breaker = new CircuitBreaker(SETTINGS);
  failTimes(breaker, 2, START);
  assert.equal(breaker.status(START), "closed");
  breaker.onFailure(START + 5);
  assert.equal(breaker.status(START + 5), "open");
  assert.equal(breaker.canPass(START + 5), false);
  assert.equal(breaker.admit(START + 5), false);
  assert.equal(breaker.msUntilRetry(START + 5), 1_000);
});

Deno.test("a success ends the run of failures", () => {
  const breaker = new CircuitBreaker(SETTINGS);
  failTimes(breaker, 2, START);
  breaker.onSuccess(START);
  failTimes(breaker, 2, START);
  assert.equal(breaker.status(START), "closed");
  assert.equal(breaker.snapshot(START).consecutiveFailures, 2);
  breaker.onFailure(START);
  assert.equal(breaker.status(START), "open");
});

Deno.test("a neutral report while closed neither counts nor ends the run of failures", () => {
  const breaker = new CircuitBreaker(SETTINGS);
  failTimes(breaker, 2, START);
  breaker.onNeutral(START);
  assert.equal(breaker.snapshot(START).consecutiveFailures, 2);
  breaker.onFailure(START);
  assert.equal(breaker.status(START), "open");
});

Deno.test("an open breaker is half-open exactly when the timeout has gone by", () => {
  const breaker = openedBreaker();
  const lastOpen = START + 999;
  assert.equal(breaker.status(lastOpen), "open");
  assert.equal(breaker.canPass(lastOpen), false);
  assert.equal(breaker.msUntilRetry(lastOpen), 1);
  assert.equal(breaker.admit(lastOpen), false);
  const retry = START + 1_000;
  assert.equal(breaker.status(retry), "half-open");
  assert.equal(breaker.canPass(retry), true);
  assert.equal(breaker.msUntilRetry(retry), 0);
  assert.equal(breaker.admit(retry), true);
});

Deno.test("with one probe allowed, half-open lets one request through at a time", () => {
  const breaker = openedBreaker({ halfOpenMaxProbes: 1 });
  const now = START + 1_000;
  assert.equal(breaker.admit(now), true);
  assert.equal(breaker.canPass(now), false);
  assert.equal(breaker.admit(now), false);
  assert.equal(breaker.snapshot(now).probesInFlight, 1);
  breaker.onSuccess(now + 10);
  assert.equal(breaker.status(now + 10), "half-open", "one success of two needed");
  assert.equal(breaker.admit(now + 10), true);
  assert.equal(breaker.admit(now + 10), false);
});

Deno.test("with two probes allowed, half-open lets two requests through at a time", () => {
  const breaker = openedBreaker({ halfOpenMaxProbes: 2, successThreshold: 3 });
  const now = START + 1_000;
  assert.equal(breaker.admit(now), true);
  assert.equal(breaker.admit(now), true);
  assert.equal(breaker.canPass(now), false);
  assert.equal(breaker.admit(now), false);
  breaker.onSuccess(now);
  assert.equal(breaker.canPass(now), true);
  assert.equal(breaker.admit(now), true);
  assert.equal(breaker.admit(now), false);
  assert.equal(breaker.snapshot(now).probesInFlight, 2);
});

Deno.test("asking whether a request could pass changes nothing", () => {
  const breaker = openedBreaker({ halfOpenMaxProbes: 1 });
  const now = START + 1_000;
  for (let i = 0; i < 5; i++) assert.equal(breaker.canPass(now), true);
  assert.equal(breaker.snapshot(now).probesInFlight, 0);
  assert.equal(breaker.admit(now), true);
});

Deno.test("success-threshold probe successes close the breaker", () => {
  const transitions: BreakerStatus[] = [];
  const breaker = new CircuitBreaker(SETTINGS, {
    onTransition: (_from, to) => transitions.push(to),
  });
  failTimes(breaker, 3, START);
  const now = START + 1_000;
  breaker.admit(now);
  breaker.onSuccess(now + 1);
  assert.equal(breaker.status(now + 1), "half-open");
  assert.equal(breaker.snapshot(now + 1).halfOpenSuccesses, 1);
  breaker.admit(now + 2);
  breaker.onSuccess(now + 3);
  assert.equal(breaker.status(now + 3), "closed");
  assert.deepEqual(transitions, ["open", "half-open", "closed"]);
  const view = breaker.snapshot(now + 3);
  assert.equal(view.consecutiveFailures, 0);
  assert.equal(view.halfOpenSuccesses, 0);
  assert.equal(view.probesInFlight, 0);
  failTimes(breaker, 2, now + 4);
  assert.equal(breaker.status(now + 4), "closed", "a closed breaker starts a new run of failures");
});

Deno.test("a probe failure opens the breaker again for a fresh timeout", () => {
  const breaker = openedBreaker();
  const probeAt = START + 1_000;
  breaker.admit(probeAt);
  breaker.onSuccess(probeAt);
  breaker.admit(probeAt + 100);
  const failedAt = probeAt + 500;
  breaker.onFailure(failedAt);
  assert.equal(breaker.status(failedAt), "open");
  assert.equal(breaker.msUntilRetry(failedAt), 1_000);
  assert.equal(breaker.status(failedAt + 999), "open");
  assert.equal(breaker.status(failedAt + 1_000), "half-open");
  const view = breaker.snapshot(failedAt + 1_000);
  assert.equal(view.halfOpenSuccesses, 0, "successes of the earlier half-open period are gone");
  assert.equal(view.opened, 2);
  assert.equal(view.openedAt, new Date(failedAt).toISOString());
});

Deno.test("a neutral report frees a probe slot without counting", () => {
  const breaker = openedBreaker({ successThreshold: 1 });
  const now = START + 1_000;
  breaker.admit(now);
  assert.equal(breaker.canPass(now), false);
  breaker.onNeutral(now + 1);
  assert.equal(breaker.status(now + 1), "half-open");
  assert.equal(breaker.canPass(now + 1), true);
  const view = breaker.snapshot(now + 1);
  assert.equal(view.halfOpenSuccesses, 0);
  assert.equal(view.probesInFlight, 0);
});

Deno.test("a late probe success does not close a breaker that another probe reopened", () => {
  const breaker = openedBreaker({ halfOpenMaxProbes: 2, successThreshold: 1 });
  const now = START + 1_000;
  assert.equal(breaker.admit(now), true);
  assert.equal(breaker.admit(now), true);
  breaker.onFailure(now + 10);
  breaker.onSuccess(now + 20);
  assert.equal(breaker.status(now + 20), "open");
  const view = breaker.snapshot(now + 20);
  assert.equal(view.probesInFlight, 0);
  assert.equal(view.halfOpenSuccesses, 0);
  assert.equal(view.retryAt, new Date(now + 10 + 1_000).toISOString());
});

Deno.test("reports while half-open with no probe in flight are ignored", () => {
  const breaker = openedBreaker({ successThreshold: 1 });
  const now = START + 1_000;
  breaker.onSuccess(now);
  breaker.onFailure(now);
  breaker.onNeutral(now);
  assert.equal(breaker.status(now), "half-open");
  const view = breaker.snapshot(now);
  assert.equal(view.probesInFlight, 0);
  assert.equal(view.halfOpenSuccesses, 0);
  assert.equal(view.opened, 1);
});

Deno.test("reports while open neither extend nor end the open period", () => {
  const breaker = openedBreaker({ successThreshold: 1 });
  failTimes(breaker, 5, START + 500);
  breaker.onSuccess(START + 600);
  breaker.onNeutral(START + 700);
  assert.equal(breaker.status(START + 999), "open");
  assert.equal(breaker.status(START + 1_000), "half-open");
  assert.equal(breaker.snapshot(START + 1_000).opened, 1);
});

Deno.test("a probe reported after the breaker closed counts as a closed-state report", () => {
  const breaker = openedBreaker({ halfOpenMaxProbes: 2, successThreshold: 1 });
  const now = START + 1_000;
  breaker.admit(now);
  breaker.admit(now);
  breaker.onSuccess(now + 1);
  assert.equal(breaker.status(now + 1), "closed");
  breaker.onFailure(now + 2);
  breaker.onNeutral(now + 3);
  const view = breaker.snapshot(now + 3);
  assert.equal(view.status, "closed");
  assert.equal(view.consecutiveFailures, 1);
  assert.equal(view.probesInFlight, 0);
});

Deno.test("a disabled breaker lets everything through and counts nothing", () => {
  const breaker = new CircuitBreaker({ ...SETTINGS, enabled: false });
  failTimes(breaker, 10, START);
  assert.equal(breaker.status(START), "closed");
  assert.equal(breaker.canPass(START), true);
  assert.equal(breaker.admit(START), true);
  breaker.onSuccess(START);
  breaker.onNeutral(START);
  assert.equal(breaker.msUntilRetry(START), 0);
  assert.deepEqual(breaker.snapshot(START), {
    enabled: false,
    status: "closed",
    consecutiveFailures: 0,
    halfOpenSuccesses: 0,
    probesInFlight: 0,
    openedAt: null,
    retryAt: null,
    opened: 0,
    lastTransitionAt: null,
  });
});

Deno.test("turning a breaker off forgets its state, so it is closed when turned on again", () => {
  const breaker = openedBreaker();
  breaker.admit(START + 1_000);
  breaker.configure({ ...SETTINGS, enabled: false });
  assert.equal(breaker.status(START + 1_000), "closed");
  assert.equal(breaker.admit(START + 1_000), true);
  breaker.configure(SETTINGS);
  assert.equal(breaker.status(START + 1_000), "closed");
  const view = breaker.snapshot(START + 1_000);
  assert.equal(view.probesInFlight, 0);
  assert.equal(view.openedAt, null);
  assert.equal(view.opened, 1);
});

Deno.test("configure swaps the settings and keeps the state", () => {
  const breaker = openedBreaker();
  const longer = { ...SETTINGS, timeout: 5_000, halfOpenMaxProbes: 2 };
  breaker.configure(longer);
  assert.equal(breaker.settings, longer);
  assert.equal(breaker.status(START + 1_000), "open", "the new timeout applies at once");
  assert.equal(breaker.msUntilRetry(START + 1_000), 4_000);
  assert.equal(breaker.admit(START + 5_000), true);
  assert.equal(breaker.admit(START + 5_000), true);
  assert.equal(breaker.admit(START + 5_000), false);
  assert.equal(breaker.snapshot(START + 5_000).opened, 1);
});

Deno.test("a lower failure threshold applies from the next failure", () => {
  const breaker = new CircuitBreaker({ ...SETTINGS, failureThreshold: 5 });
  failTimes(breaker, 3, START);
  breaker.configure({ ...SETTINGS, failureThreshold: 2 });
  assert.equal(breaker.status(START), "closed");
  breaker.onFailure(START);
  assert.equal(breaker.status(START), "open");
});

Deno.test("settings a breaker cannot work with are refused", () => {
  const invalid: Partial<BreakerSettings>[] = [
    { failureThreshold: 0 },
    { successThreshold: 1.5 },
    { halfOpenMaxProbes: 0 },
    { timeout: -1 },
    { timeout: Number.NaN },
  ];
  for (const change of invalid) {
    assert.throws(() => new CircuitBreaker({ ...SETTINGS, ...change }), RangeError);
    const breaker = new CircuitBreaker(SETTINGS);
    assert.throws(() => breaker.configure({ ...SETTINGS, ...change }), RangeError);
    assert.equal(breaker.settings, SETTINGS);
  }
});

Deno.test("reset closes an open breaker and clears its counters", () => {
  const transitions: string[] = [];
  const breaker = new CircuitBreaker(SETTINGS, {
    onTransition: (from, to, at) => transitions.push(`${from}>${to}@${at - START}`),
  });
  failTimes(breaker, 3, START);
  breaker.reset(START + 200);
  assert.equal(breaker.status(START + 200), "closed");
  assert.equal(breaker.admit(START + 200), true);
  assert.deepEqual(transitions, ["closed>open@0", "open>closed@200"]);
  const view = breaker.snapshot(START + 200);
  assert.equal(view.consecutiveFailures, 0);
  assert.equal(view.openedAt, null);
  assert.equal(view.opened, 1, "the number of times it opened is kept");
  assert.equal(view.lastTransitionAt, new Date(START + 200).toISOString());
});

Deno.test("reset of a closed breaker clears the run of failures without a transition", () => {
  const transitions: string[] = [];
  const breaker = new CircuitBreaker(SETTINGS, {
    onTransition: (from, to) => transitions.push(`${from}>${to}`),
  });
  failTimes(breaker, 2, START);
  breaker.reset(START);
  failTimes(breaker, 2, START);
  assert.equal(breaker.status(START), "closed");
  assert.deepEqual(transitions, []);
});

Deno.test("reset of a half-open breaker frees its probe slots", () => {
  const breaker = openedBreaker();
  breaker.admit(START + 1_000);
  breaker.reset(START + 1_100);
  const view = breaker.snapshot(START + 1_100);
  assert.equal(view.status, "closed");
  assert.equal(view.probesInFlight, 0);
  assert.equal(view.lastTransitionAt, new Date(START + 1_100).toISOString());
});

Deno.test("the snapshot shows the breaker as JSON in each status", () => {
  const breaker = new CircuitBreaker(SETTINGS);
  assert.deepEqual(breaker.snapshot(START), {
    enabled: true,
    status: "closed",
    consecutiveFailures: 0,
    halfOpenSuccesses: 0,
    probesInFlight: 0,
    openedAt: null,
    retryAt: null,
    opened: 0,
    lastTransitionAt: null,
  });
  failTimes(breaker, 3, START);
  assert.deepEqual(breaker.snapshot(START + 10), {
    enabled: true,
    status: "open",
    consecutiveFailures: 0,
    halfOpenSuccesses: 0,
    probesInFlight: 0,
    openedAt: "2030-01-01T00:00:00.000Z",
    retryAt: "2030-01-01T00:00:01.000Z",
    opened: 1,
    lastTransitionAt: "2030-01-01T00:00:00.000Z",
  });
  breaker.admit(START + 1_500);
  breaker.onSuccess(START + 1_600);
  breaker.admit(START + 1_700);
  const halfOpen = breaker.snapshot(START + 1_800);
  assert.deepEqual(halfOpen, {
    enabled: true,
    status: "half-open",
    consecutiveFailures: 0,
    halfOpenSuccesses: 1,
    probesInFlight: 1,
    openedAt: "2030-01-01T00:00:00.000Z",
    retryAt: null,
    opened: 1,
    lastTransitionAt: "2030-01-01T00:00:01.000Z",
  });
  assert.deepEqual(JSON.parse(JSON.stringify(halfOpen)), halfOpen);
});

Deno.test("an open breaker past its timeout reads as half-open before any call stores it", () => {
  const breaker = openedBreaker();
  const view = breaker.snapshot(START + 5_000);
  assert.equal(view.status, "half-open");
  assert.equal(view.retryAt, null);
  assert.equal(view.lastTransitionAt, new Date(START).toISOString());
});

Deno.test("the transition listener is told of each change in order, with when it took effect", () => {
  const transitions: [BreakerStatus, BreakerStatus, number][] = [];
  const breaker = new CircuitBreaker(SETTINGS, {
    onTransition: (from, to, at) => transitions.push([from, to, at - START]),
  });
  failTimes(breaker, 3, START);
  breaker.status(START + 1_500);
  breaker.canPass(START + 1_500);
  breaker.snapshot(START + 1_500);
  assert.equal(transitions.length, 1, "reading the status does not store a transition");
  breaker.admit(START + 1_500);
  breaker.onFailure(START + 1_600);
  breaker.admit(START + 2_600);
  breaker.onSuccess(START + 2_700);
  breaker.admit(START + 2_800);
  breaker.onSuccess(START + 2_900);
  assert.deepEqual(transitions, [
    ["closed", "open", 0],
    ["open", "half-open", 1_000],
    ["half-open", "open", 1_600],
    ["open", "half-open", 2_600],
    ["half-open", "closed", 2_900],
  ]);
});

import assert from "node:assert/strict";
import { IdleRelease } from "./idle_release.ts";

const MiB = 1024 * 1024;

/** An idle release on a fake schedule, with request counts and resident memory the test sets. */
function fakeProcess(options: { minGrowth?: number } = {}) {
  const timers: { at: number; callback: () => void; cancelled: boolean }[] = [];
  const state = {
    now: 0,
    inFlight: 0,
    finished: 0,
    rss: 80 * MiB,
    releases: [] as number[],
    /** Timers armed and not yet run or called off. */
    armed: () => timers.filter((timer) => !timer.cancelled).length,
    /** Moves the clock to `to`, running each timer that comes due, in order. */
    advance(to: number) {
      for (;;) {
        const due = timers
          .filter((timer) => !timer.cancelled && timer.at <= to)
          .sort((a, b) => a.at - b.at)[0];
        if (due === undefined) break;
        due.cancelled = true;
        state.now = due.at;
        due.callback();
      }
      state.now = to;
    },
    /** A request that arrives and is answered at once. */
    request() {
      state.finished++;
    },
  };
  const idle = new IdleRelease({
    requests: () => ({ inFlight: state.inFlight, finished: state.finished }),
    rss: () => state.rss,
    release: () => state.releases.push(state.now),
    quietMs: 5000,
    settleMs: 1000,
    ...options,
    schedule(callback, ms) {
      const timer = { at: state.now + ms, callback, cancelled: false };
      timers.push(timer);
      return { cancel: () => void (timer.cancelled = true) };
    },
  });
  return { state, idle };
}

Deno.test("start-up counts as work: memory is released once the process has been quiet", () => {
  const { state } = fakeProcess();
  state.advance(4999);
  assert.deepEqual(state.releases, []);
  state.advance(5000);
  assert.deepEqual(state.releases, [5000]);
  state.advance(60_000);
  assert.deepEqual(state.releases, [5000], "no work since, nothing more to release");
});

Deno.test("nothing is released while a request is in flight, nor before a quiet interval after it", () => {
  const { state } = fakeProcess();
  state.inFlight = 1; // a long stream
  state.advance(30_000);
  assert.deepEqual(state.releases, []);
  state.rss = 300 * MiB;
  state.advance(32_000);
  state.inFlight = 0;
  state.finished = 1;
  state.advance(35_000);
  assert.deepEqual(state.releases, [], "in flight at the reading before");
  state.advance(40_000);
  assert.deepEqual(state.releases, [40_000]);
});

Deno.test("a request that comes and goes between two readings pushes the release back", () => {
  const { state } = fakeProcess();
  state.advance(6000); // the start-up release, and its floor read a second later
  state.rss = 200 * MiB;
  state.request();
  state.advance(10_000);
  state.request();
  state.advance(15_000);
  assert.deepEqual(state.releases, [5000]);
  state.advance(20_000);
  assert.deepEqual(state.releases, [5000, 20_000]);
});

Deno.test("after a release, the next one waits for resident memory to grow by minGrowth", () => {
  const { state } = fakeProcess({ minGrowth: 16 * MiB });
  state.advance(5000);
  state.rss = 70 * MiB; // what the release gave back, read as the floor a second later
  state.advance(6000);

  // A health check: a little garbage, no growth to speak of.
  state.rss = 71 * MiB;
  state.request();
  state.advance(30_000);
  assert.deepEqual(state.releases, [5000]);

  // A load.
  state.rss = 190 * MiB;
  state.request();
  state.advance(45_000);
  assert.deepEqual(state.releases, [5000, 40_000]);
});

Deno.test("growth without requests since the last release sets off nothing", () => {
  const { state } = fakeProcess();
  state.advance(6000);
  state.rss = 300 * MiB;
  state.advance(60_000);
  assert.deepEqual(state.releases, [5000]);
});

Deno.test("one timer waits between readings, and one more while a release settles", () => {
  const { state } = fakeProcess();
  assert.equal(state.armed(), 1);
  state.advance(5000);
  assert.equal(state.armed(), 2);
  state.advance(6000);
  assert.equal(state.armed(), 1);
});

Deno.test("closed, it releases nothing and leaves no timer", () => {
  const { state, idle } = fakeProcess();
  idle.close();
  assert.equal(state.armed(), 0);
  state.advance(60_000);
  assert.deepEqual(state.releases, []);
});

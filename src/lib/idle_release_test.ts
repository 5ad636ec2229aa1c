import assert from "node:assert/strict";
import { IdleRelease } from "./idle_release.ts";

const MiB = 1024 * 1024;

/** An idle release on a fake clock and schedule, with resident memory the test sets. */
function fakeProcess(options: { minGrowth?: number } = {}) {
  const timers: { at: number; callback: () => void; cancelled: boolean }[] = [];
  const state = {
    now: 0,
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
  };
  const idle = new IdleRelease({
    rss: () => state.rss,
    release: () => state.releases.push(state.now),
    quietMs: 5000,
    settleMs: 1000,
    ...options,
    now: () => state.now,
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

Deno.test("nothing is released while work is in flight, and not before it has been quiet long enough", () => {
  const { state, idle } = fakeProcess();
  const work = idle.begin();
  state.advance(30_000);
  assert.deepEqual(state.releases, [], "a long stream in flight");
  state.rss = 300 * MiB;
  work[Symbol.dispose]();
  state.advance(34_999);
  assert.deepEqual(state.releases, []);
  state.advance(35_000);
  assert.deepEqual(state.releases, [35_000]);
});

Deno.test("work that begins and ends during the quiet wait pushes the release back", () => {
  const { state, idle } = fakeProcess();
  state.advance(6000); // the start-up release, and its floor read a second later
  state.rss = 200 * MiB;
  idle.begin()[Symbol.dispose]();
  state.advance(8000);
  idle.begin()[Symbol.dispose]();
  state.advance(12_999);
  assert.deepEqual(state.releases, [5000]);
  state.advance(13_000);
  assert.deepEqual(state.releases, [5000, 13_000]);
});

Deno.test("after a release, the next one waits for resident memory to grow by minGrowth", () => {
  const { state, idle } = fakeProcess({ minGrowth: 16 * MiB });
  state.advance(5000);
  state.rss = 70 * MiB; // what the release gave back, read as the floor a second later
  state.advance(6000);

  // A health check: a little garbage, no growth to speak of.
  state.rss = 71 * MiB;
  idle.begin()[Symbol.dispose]();
  state.advance(20_000);
  assert.deepEqual(state.releases, [5000]);

  // A load.
  state.rss = 190 * MiB;
  idle.begin()[Symbol.dispose]();
  state.advance(30_000);
  assert.deepEqual(state.releases, [5000, 25_000]);
});

Deno.test("growth without work since the last release sets off nothing", () => {
  const { state } = fakeProcess();
  state.advance(6000);
  state.rss = 300 * MiB;
  state.advance(60_000);
  assert.deepEqual(state.releases, [5000]);
});

Deno.test("a lease ends its work once, however often it is disposed", () => {
  const { state, idle } = fakeProcess();
  const first = idle.begin();
  const second = idle.begin();
  first[Symbol.dispose]();
  first[Symbol.dispose]();
  state.advance(20_000);
  assert.deepEqual(state.releases, [], "the second piece of work is still in flight");
  second[Symbol.dispose]();
  state.advance(25_000);
  assert.deepEqual(state.releases, [25_000]);
});

Deno.test("at most one timer waits, however many requests come and go", () => {
  const { state, idle } = fakeProcess();
  for (let i = 0; i < 100; i++) {
    using _work = idle.begin();
    state.advance(state.now + 10);
  }
  assert.equal(state.armed(), 1);
});

Deno.test("closed, it releases nothing and leaves no timer", () => {
  const { state, idle } = fakeProcess();
  idle.close();
  assert.equal(state.armed(), 0);
  state.advance(60_000);
  assert.deepEqual(state.releases, []);
});

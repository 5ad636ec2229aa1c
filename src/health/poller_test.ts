import assert from "node:assert/strict";
import { Poller, type Schedule } from "./poller.ts";

/** A schedule that keeps the callbacks for the test to run. */
function heldSchedule() {
  const held: { callback: () => void; ms: number }[] = [];
  const schedule: Schedule = (callback, ms) => {
    held.push({ callback, ms });
    return { cancel: () => {} };
  };
  return { schedule, held };
}

Deno.test("a poller runs its task at once, or with wait one interval later", async () => {
  const runs: string[] = [];
  const now = heldSchedule();
  new Poller(() => Promise.resolve(void runs.push("now")), 1_000, { schedule: now.schedule })
    .start();
  const later = heldSchedule();
  new Poller(() => Promise.resolve(void runs.push("later")), 1_000, { schedule: later.schedule })
    .start({ wait: true });
  await Promise.resolve();
  assert.deepEqual(runs, ["now"]);
  assert.deepEqual(later.held.map((entry) => entry.ms), [1_000]);
  later.held[0]!.callback();
  assert.deepEqual(runs, ["now", "later"]);
});

Deno.test("a task that throws is reported, and the poller keeps running it", async () => {
  const failures: unknown[] = [];
  const { schedule, held } = heldSchedule();
  const bug = new TypeError("a bug in the task");
  new Poller(() => Promise.reject(bug), 1_000, {
    schedule,
    onError: (error) => failures.push(error),
  }).start();
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.deepEqual(failures, [bug]);
  assert.equal(held.length, 1, "the next run is scheduled");
});

Deno.test("runNow runs the task at once, after a run under way, and restarts the interval", async () => {
  const runs: number[] = [];
  const held: { callback: () => void; ms: number; cancelled: boolean }[] = [];
  const schedule: Schedule = (callback, ms) => {
    const entry = { callback, ms, cancelled: false };
    held.push(entry);
    return { cancel: () => void (entry.cancelled = true) };
  };
  let release = () => {};
  let run = 0;
  const poller = new Poller(
    () => {
      runs.push(++run);
      return run === 1 ? new Promise<void>((resolve) => release = resolve) : Promise.resolve();
    },
    1_000,
    { schedule },
  );
  poller.start();
  assert.deepEqual(runs, [1]);
  // The first run is still under way: the refresh waits for it, then runs once more.
  const refreshed = poller.runNow();
  await Promise.resolve();
  assert.deepEqual(runs, [1]);
  release();
  await refreshed;
  assert.deepEqual(runs, [1, 2]);
  const pending = held.filter((entry) => !entry.cancelled);
  assert.equal(pending.length, 1, "one next run is scheduled, not two");
  await poller.runNow();
  assert.deepEqual(runs, [1, 2, 3]);
  assert.equal(held.filter((entry) => !entry.cancelled).length, 1);
  poller.stop();
  await poller.runNow();
  assert.deepEqual(runs, [1, 2, 3], "a stopped poller runs nothing");
});

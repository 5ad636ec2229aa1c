import assert from "node:assert/strict";
import { type Timer, WaitQueue } from "./wait_queue.ts";

/** Timers fired by hand. */
function manualTimers() {
  const pending = new Set<() => void>();
  const timer: Timer = (callback) => {
    pending.add(callback);
    return () => pending.delete(callback);
  };
  return {
    timer,
    fireAll() {
      for (const callback of [...pending]) {
        pending.delete(callback);
        callback();
      }
    },
    get pending() {
      return pending.size;
    },
  };
}

Deno.test("waiters are woken one at a time, first in first out", async () => {
  const timers = manualTimers();
  const queue = new WaitQueue(5, timers.timer);
  const signal = new AbortController().signal;
  const order: string[] = [];
  const first = queue.wait(1_000, signal).then((outcome) => order.push(`first ${outcome}`));
  const second = queue.wait(1_000, signal).then((outcome) => order.push(`second ${outcome}`));
  assert.equal(queue.length, 2);
  queue.wake();
  await first;
  assert.deepEqual(order, ["first woken"]);
  assert.equal(queue.length, 1);
  queue.wake();
  await second;
  assert.deepEqual(order, ["first woken", "second woken"]);
  assert.equal(timers.pending, 0);
});

Deno.test("a full line refuses at once, and waking an empty line does nothing", async () => {
  const timers = manualTimers();
  const queue = new WaitQueue(1, timers.timer);
  const signal = new AbortController().signal;
  queue.wake();
  const waiting = queue.wait(1_000, signal);
  assert.equal(await queue.wait(1_000, signal), "full");
  queue.wake();
  assert.equal(await waiting, "woken");
});

Deno.test("a wait times out, and an aborted wait leaves the line", async () => {
  const timers = manualTimers();
  const queue = new WaitQueue(3, timers.timer);
  const controller = new AbortController();
  const aborted = queue.wait(1_000, controller.signal);
  controller.abort();
  assert.equal(await aborted, "aborted");
  assert.equal(queue.length, 0);
  const timedOut = queue.wait(1_000, new AbortController().signal);
  timers.fireAll();
  assert.equal(await timedOut, "timeout");
  assert.equal(queue.length, 0);
});

Deno.test("a size of zero turns every waiter away", async () => {
  const queue = new WaitQueue(0, manualTimers().timer);
  assert.equal(await queue.wait(1_000, new AbortController().signal), "full");
});

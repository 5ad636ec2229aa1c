import assert from "node:assert/strict";
import type { PriorityClass } from "./priority.ts";
import { QueueTicket, type WaitOutcome, WaitQueue } from "./wait_queue.ts";
import { manualTimers } from "./_manual_timers.ts";

const NEVER = new AbortController().signal;

function ticket(lane = "anonymous", priority: PriorityClass = "normal"): QueueTicket {
  return new QueueTicket({ priority, lane });
}

/** A queue of `size`, and a way to enqueue labelled waiters and wake them in turn. */
function line(size: number) {
  const timers = manualTimers();
  const queue = new WaitQueue(size, { timer: timers.timer, now: () => 0 });
  const outcomes = new Map<string, WaitOutcome>();
  const woken: string[] = [];
  const join = (label: string, place: QueueTicket, signal = NEVER) =>
    queue.wait(place, { timeout: 1_000, signal }).then((outcome) => {
      outcomes.set(label, outcome);
      if (outcome === "woken") woken.push(label);
      return outcome;
    });
  const wakeAll = async () => {
    while (queue.length > 0) {
      queue.wake();
      await Promise.resolve();
      await Promise.resolve();
    }
  };
  return { queue, timers, outcomes, woken, join, wakeAll };
}

Deno.test("waiters of one lane are woken one at a time, first in first out", async () => {
  const { queue, timers, join, woken } = line(5);
  const first = join("first", ticket());
  const second = join("second", ticket());
  assert.equal(queue.length, 2);
  queue.wake();
  await first;
  assert.deepEqual(woken, ["first"]);
  assert.equal(queue.length, 1);
  queue.wake();
  await second;
  assert.deepEqual(woken, ["first", "second"]);
  assert.equal(timers.pending, 0);
});

Deno.test("a full line refuses at once, and waking an empty line does nothing", async () => {
  const { queue } = line(1);
  queue.wake();
  const waiting = queue.wait(ticket(), { timeout: 1_000, signal: NEVER });
  assert.equal(await queue.wait(ticket(), { timeout: 1_000, signal: NEVER }), "full");
  queue.wake();
  assert.equal(await waiting, "woken");
});

Deno.test("a wait times out, and an aborted wait leaves the line", async () => {
  const { queue, timers } = line(3);
  const controller = new AbortController();
  const aborted = queue.wait(ticket(), { timeout: 1_000, signal: controller.signal });
  controller.abort();
  assert.equal(await aborted, "aborted");
  assert.equal(queue.length, 0);
  const timedOut = queue.wait(ticket(), { timeout: 1_000, signal: NEVER });
  timers.fireAll();
  assert.equal(await timedOut, "timeout");
  assert.equal(queue.length, 0);
});

Deno.test("a size of zero turns every waiter away", async () => {
  const { queue } = line(0);
  assert.equal(await queue.wait(ticket(), { timeout: 1_000, signal: NEVER }), "full");
});

Deno.test("classes are served strictly in order: high, then normal, then low", async () => {
  const { join, wakeAll, woken } = line(10);
  join("low 1", ticket("a", "low"));
  join("normal 1", ticket("a", "normal"));
  join("high 1", ticket("b", "high"));
  join("low 2", ticket("b", "low"));
  join("high 2", ticket("a", "high"));
  join("normal 2", ticket("b", "normal"));
  await wakeAll();
  assert.deepEqual(woken, ["high 1", "high 2", "normal 1", "normal 2", "low 1", "low 2"]);
});

Deno.test("within a class, lanes take turns: a flood waits behind a quiet key's request", async () => {
  const { join, wakeAll, woken } = line(100);
  for (let index = 1; index <= 5; index++) join(`flood ${index}`, ticket("flood"));
  join("quiet 1", ticket("quiet"));
  join("other 1", ticket("other"));
  join("quiet 2", ticket("quiet"));
  await wakeAll();
  assert.deepEqual(woken, [
    "flood 1",
    "quiet 1",
    "other 1",
    "flood 2",
    "quiet 2",
    "flood 3",
    "flood 4",
    "flood 5",
  ]);
});

Deno.test("a lane that was idle starts at the class's current turn, not with a credit", async () => {
  const { queue, join, wakeAll, woken } = line(100);
  for (let index = 1; index <= 4; index++) join(`flood ${index}`, ticket("flood"));
  queue.wake();
  queue.wake();
  queue.wake();
  await Promise.resolve();
  await Promise.resolve();
  // Three turns went by: a new lane joins the current round, with no credit for the past.
  join("late 1", ticket("late"));
  join("late 2", ticket("late"));
  join("flood 5", ticket("flood"));
  await wakeAll();
  assert.deepEqual(woken, [
    "flood 1",
    "flood 2",
    "flood 3",
    "late 1",
    "flood 4",
    "late 2",
    "flood 5",
  ]);
});

Deno.test("positions count the waiters ahead in class and fair order", async () => {
  const { queue } = line(10);
  const positions: number[] = [];
  const readings: (() => number | undefined)[] = [];
  const enter = (place: QueueTicket) =>
    queue.wait(place, {
      timeout: 1_000,
      signal: NEVER,
      entered: (position, current) => {
        positions.push(position);
        readings.push(current);
      },
    });
  const flood1 = enter(ticket("flood"));
  enter(ticket("flood"));
  enter(ticket("flood"));
  enter(ticket("quiet"));
  enter(ticket("vip", "high"));
  assert.deepEqual(positions, [1, 2, 3, 2, 1]);
  assert.deepEqual(readings.map((read) => read()), [2, 4, 5, 3, 1]);
  queue.wake();
  queue.wake();
  await flood1;
  assert.deepEqual(readings.map((read) => read()), [undefined, 2, 3, 1, undefined]);
});

Deno.test("a woken request that found no slot and waits again keeps its turn", async () => {
  const { queue, woken, join, wakeAll } = line(10);
  const again = ticket("a");
  const first = join("a 1", again);
  join("b 1", ticket("b"));
  join("a 2", ticket("a"));
  queue.wake();
  assert.equal(await first, "woken");
  // Lost the race for the slot: back in line, ahead of those who came later.
  join("a 1 again", again);
  await wakeAll();
  assert.deepEqual(woken, ["a 1", "a 1 again", "b 1", "a 2"]);
});

Deno.test("a full line makes room for a quiet key by pushing out the flood's newest", async () => {
  const { queue, join, outcomes } = line(3);
  join("flood 1", ticket("flood"));
  join("flood 2", ticket("flood"));
  join("flood 3", ticket("flood"));
  const quiet = join("quiet", ticket("quiet"));
  await Promise.resolve();
  assert.equal(outcomes.get("flood 3"), "full");
  assert.equal(queue.length, 3);
  // The flood's own next request finds no lane longer than its own by two.
  assert.equal(await join("flood 4", ticket("flood")), "full");
  // Two lanes holding two and one: the next quiet request is turned away too.
  assert.equal(await join("quiet 2", ticket("quiet")), "full");
  queue.wake();
  queue.wake();
  assert.equal(await quiet, "woken");
});

Deno.test("a full line makes room for a higher class, never for a lower one", async () => {
  const { join, outcomes } = line(2);
  join("low 1", ticket("a", "low"));
  join("low 2", ticket("a", "low"));
  join("high", ticket("b", "high"));
  await Promise.resolve();
  assert.equal(outcomes.get("low 2"), "full");
  join("normal", ticket("c", "normal"));
  await Promise.resolve();
  assert.equal(outcomes.get("low 1"), "full");
  assert.equal(await join("low 3", ticket("d", "low")), "full");
});

Deno.test("the drain rate is the rate of wake-ups, and the drain time the line's length over it", async () => {
  let now = 0;
  const queue = new WaitQueue(100, { timer: manualTimers().timer, now: () => now });
  assert.equal(queue.drainRate(), undefined);
  assert.equal(queue.drainTime(), undefined);
  const waiting = Array.from(
    { length: 40 },
    () => queue.wait(ticket(), { timeout: 60_000, signal: NEVER }),
  );
  // Four requests leave per second for ten seconds.
  for (let index = 0; index < 40; index++) {
    queue.wake();
    now += 250;
  }
  await Promise.all(waiting);
  const rate = queue.drainRate()!;
  assert.ok(Math.abs(rate - 4) < 0.5, `about 4 per second, got ${rate}`);
  for (let index = 0; index < 8; index++) queue.wait(ticket(), { timeout: 60_000, signal: NEVER });
  const drainTime = queue.drainTime()!;
  assert.ok(Math.abs(drainTime - 2_000) < 300, `8 waiting at 4/s leave in about 2 s: ${drainTime}`);
  // Nothing leaves for a minute: the rate falls, the drain time grows.
  now += 60_000;
  assert.ok(queue.drainRate()! < 0.5);
  assert.ok(queue.drainTime()! > 16_000);
});

Deno.test("a lane whose key is at its cap is passed over, in any class, until it has room", async () => {
  const { queue, join, woken } = line(100);
  let room = false;
  const held = new QueueTicket({ priority: "high", lane: "capped" }, () => room);
  const capped = join("capped", held);
  const normal = join("normal", ticket("quiet"));
  queue.wake();
  await normal;
  assert.deepEqual(woken, ["normal"]);
  queue.wake();
  await Promise.resolve();
  assert.deepEqual(woken, ["normal"], "a wake-up with only held waiters wakes none");
  assert.equal(queue.length, 1);
  room = true;
  queue.wake();
  await capped;
  assert.deepEqual(woken, ["normal", "capped"]);
});

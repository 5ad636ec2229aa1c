import assert from "node:assert/strict";
import { Deadlines } from "./deadlines.ts";

/** A fake clock and the one timer a {@linkcode Deadlines} may arm. */
function fakeTime() {
  const time = {
    now: 0,
    armed: undefined as { at: number; callback: () => void } | undefined,
    starts: 0,
    /** Moves the clock to `to`, running the timer when it comes due. */
    advance(to: number) {
      while (time.armed !== undefined && time.armed.at <= to) {
        const { at, callback } = time.armed;
        time.now = Math.max(time.now, at);
        time.armed = undefined;
        callback();
      }
      time.now = to;
    },
  };
  const deadlines = new Deadlines({
    resolution: 10,
    now: () => time.now,
    startTimer(callback, ms) {
      time.starts++;
      const timer = { at: time.now + ms, callback };
      time.armed = timer;
      return () => {
        if (time.armed === timer) time.armed = undefined;
      };
    },
  });
  return { time, deadlines };
}

Deno.test("a deadline fires at its time or within one slot after, never before", () => {
  const { time, deadlines } = fakeTime();
  const fired: number[] = [];
  deadlines.schedule(() => fired.push(time.now), 25);
  time.advance(29);
  assert.deepEqual(fired, []);
  time.advance(30);
  assert.deepEqual(fired, [30]);
  assert.equal(deadlines.pending, 0);
  assert.equal(time.armed, undefined);
});

Deno.test("deadlines fire in order of their slots, whatever order they were set in", () => {
  const { time, deadlines } = fakeTime();
  const fired: string[] = [];
  deadlines.schedule(() => fired.push("late"), 500);
  deadlines.schedule(() => fired.push("early"), 40);
  deadlines.schedule(() => fired.push("middle"), 120);
  deadlines.schedule(() => fired.push("earliest"), 15);
  time.advance(1000);
  assert.deepEqual(fired, ["earliest", "early", "middle", "late"]);
});

Deno.test("a cancelled deadline never fires, and the last one cancelled stops the timer", () => {
  const { time, deadlines } = fakeTime();
  let fired = 0;
  const first = deadlines.schedule(() => fired++, 50);
  const second = deadlines.schedule(() => fired++, 80);
  first.cancel();
  assert.equal(deadlines.pending, 1);
  assert.notEqual(time.armed, undefined);
  second.cancel();
  second.cancel();
  assert.equal(deadlines.pending, 0);
  assert.equal(time.armed, undefined);
  time.advance(1000);
  assert.equal(fired, 0);
});

Deno.test("one timer serves many deadlines: it is armed again only for an earlier slot", () => {
  const { time, deadlines } = fakeTime();
  for (let i = 0; i < 100; i++) deadlines.schedule(() => {}, 5_000);
  assert.equal(time.starts, 1);
  deadlines.schedule(() => {}, 100);
  assert.equal(time.starts, 2);
  deadlines.schedule(() => {}, 200);
  assert.equal(time.starts, 2);
});

Deno.test("slots whose deadlines were all cancelled are skipped when the timer is armed again", () => {
  const { time, deadlines } = fakeTime();
  const fired: string[] = [];
  const soon = deadlines.schedule(() => fired.push("soon"), 20);
  const sooner = deadlines.schedule(() => fired.push("sooner"), 10);
  deadlines.schedule(() => fired.push("later"), 300);
  soon.cancel();
  time.advance(10);
  assert.deepEqual(fired, ["sooner"]);
  assert.equal(time.armed?.at, 300);
  sooner.cancel();
  time.advance(300);
  assert.deepEqual(fired, ["sooner", "later"]);
});

Deno.test("a deadline set while others fire is kept, and fires in its own time", () => {
  const { time, deadlines } = fakeTime();
  const fired: number[] = [];
  deadlines.schedule(() => {
    fired.push(time.now);
    deadlines.schedule(() => fired.push(time.now), 50);
  }, 10);
  time.advance(10);
  assert.deepEqual(fired, [10]);
  time.advance(59);
  assert.deepEqual(fired, [10]);
  time.advance(60);
  assert.deepEqual(fired, [10, 60]);
  assert.equal(deadlines.pending, 0);
});

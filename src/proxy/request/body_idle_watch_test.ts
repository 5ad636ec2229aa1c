import assert from "node:assert/strict";
import { BodyIdleWatch } from "./body_idle_watch.ts";

/** A repeating timer the test runs by hand. */
function manualInterval() {
  const timer = {
    callback: undefined as (() => void) | undefined,
    period: 0,
    starts: 0,
    start: (callback: () => void, ms: number) => {
      timer.callback = callback;
      timer.period = ms;
      timer.starts++;
      return () => (timer.callback = undefined);
    },
    /** Runs `count` sweeps, as `count` periods passing. */
    sweep(count = 1) {
      for (let i = 0; i < count; i++) timer.callback?.();
    },
  };
  return timer;
}

/** Whether `promise` has rejected by the time pending callbacks ran. */
async function rejected(promise: Promise<unknown>): Promise<boolean> {
  let outcome = false;
  promise.catch(() => (outcome = true));
  await Promise.resolve();
  await Promise.resolve();
  return outcome;
}

const idleError = () => new Error("idle");

Deno.test("a body with no progress is cut after the idle time, never earlier", async () => {
  const timer = manualInterval();
  const watch = new BodyIdleWatch(400, { error: idleError, startInterval: timer.start });
  using body = watch.watch();
  assert.equal(timer.period, 100, "four sweeps per idle time");
  timer.sweep(4);
  assert.equal(await rejected(body.idle), false, "400 ms passed: not yet past it");
  timer.sweep();
  await assert.rejects(body.idle, /idle/);
  assert.equal(watch.watched, 0);
  watch.close();
});

Deno.test("progress starts the idle time again", async () => {
  const timer = manualInterval();
  const watch = new BodyIdleWatch(400, { error: idleError, startInterval: timer.start });
  using body = watch.watch();
  for (let round = 0; round < 10; round++) {
    timer.sweep(3);
    body.progressed();
  }
  assert.equal(await rejected(body.idle), false);
  timer.sweep(5);
  await assert.rejects(body.idle, /idle/);
  watch.close();
});

Deno.test("a body disposed of is no longer watched, and a quiet watch stops its timer", async () => {
  const timer = manualInterval();
  const watch = new BodyIdleWatch(400, { error: idleError, startInterval: timer.start });
  let idle: Promise<never>;
  {
    using body = watch.watch();
    idle = body.idle;
  }
  assert.equal(watch.watched, 0);
  timer.sweep(10);
  assert.equal(await rejected(idle), false);
  assert.equal(timer.callback, undefined, "the sweep stopped when nothing was watched");
  using again = watch.watch();
  assert.equal(timer.starts, 2, "watching again starts the sweep again");
  assert.equal(watch.watched, 1);
  watch.close();
  assert.equal(timer.callback, undefined);
  assert.equal(watch.watched, 0);
  void again;
});

Deno.test("an idle time that is not positive is refused", () => {
  assert.throws(() => new BodyIdleWatch(0, { error: idleError }), RangeError);
});

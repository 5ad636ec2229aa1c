import assert from "node:assert/strict";
import { armResponseDeadline, UpstreamTimeout } from "./response_deadline.ts";

/** A hand-driven timer: `fire()` runs the pending callback as if its time had come. */
function fakeTimers() {
  const pending: { callback: () => void; ms: number; cancelled: boolean }[] = [];
  return {
    schedule(callback: () => void, ms: number) {
      const entry = { callback, ms, cancelled: false };
      pending.push(entry);
      return { cancel: () => entry.cancelled = true };
    },
    live: () => pending.filter((entry) => !entry.cancelled),
    async fire() {
      const entry = pending.find((candidate) => !candidate.cancelled)!;
      entry.cancelled = true;
      await entry.callback();
    },
  };
}

Deno.test("an unreachable backend is aborted at the connect timeout", async () => {
  const timers = fakeTimers();
  const controller = new AbortController();
  armResponseDeadline(controller, {
    connect: 100,
    firstByte: 5000,
    probe: () => Promise.resolve(false),
    schedule: timers.schedule,
  });
  assert.deepEqual(timers.live().map((t) => t.ms), [100]);
  await timers.fire();
  const reason = controller.signal.reason;
  assert.ok(reason instanceof UpstreamTimeout && reason.phase === "connect");
});

Deno.test("a reachable but slow backend gets the rest of the first-byte timeout", async () => {
  const timers = fakeTimers();
  const controller = new AbortController();
  armResponseDeadline(controller, {
    connect: 100,
    firstByte: 5000,
    probe: () => Promise.resolve(true),
    schedule: timers.schedule,
  });
  await timers.fire();
  assert.equal(controller.signal.aborted, false);
  assert.deepEqual(timers.live().map((t) => t.ms), [4900]);
  await timers.fire();
  const reason = controller.signal.reason;
  assert.ok(reason instanceof UpstreamTimeout && reason.phase === "first-byte");
});

Deno.test("an answer disarms every deadline, even a probe in flight", async () => {
  const timers = fakeTimers();
  const controller = new AbortController();
  let finishProbe!: (reachable: boolean) => void;
  const answered = armResponseDeadline(controller, {
    connect: 100,
    firstByte: 0,
    probe: () => new Promise((resolve) => finishProbe = resolve),
    schedule: timers.schedule,
  });
  const firing = timers.fire();
  answered();
  finishProbe(false);
  await firing;
  assert.equal(controller.signal.aborted, false);
  assert.deepEqual(timers.live(), []);
});

Deno.test("zero disables a timeout", () => {
  const timers = fakeTimers();
  armResponseDeadline(new AbortController(), {
    connect: 0,
    firstByte: 0,
    probe: () => Promise.resolve(true),
    schedule: timers.schedule,
  });
  assert.deepEqual(timers.live(), []);
});

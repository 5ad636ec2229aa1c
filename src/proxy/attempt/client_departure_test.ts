import assert from "node:assert/strict";
import { watchDeparture } from "./client_departure.ts";
import type { Schedule } from "../../lib/deadlines.ts";

/** A schedule whose one pending callback the test runs by hand. */
function manualSchedule() {
  const pending = new Set<() => void>();
  const schedule: Schedule = (callback) => {
    pending.add(callback);
    return { cancel: () => pending.delete(callback) };
  };
  const runAll = () => {
    for (const callback of pending) {
      pending.delete(callback);
      callback();
    }
  };
  return { schedule, pending, runAll };
}

/** A request whose `signal` getter counts its reads, with the controller behind it. */
function watchedRequest() {
  const controller = new AbortController();
  let reads = 0;
  const request = new Request("http://127.0.0.1/");
  Object.defineProperty(request, "signal", {
    get() {
      reads++;
      return controller.signal;
    },
  });
  return { request, controller, reads: () => reads };
}

Deno.test("a request that ends before the watch begins never reads its signal", () => {
  const { schedule, pending } = manualSchedule();
  const { request, reads } = watchedRequest();
  let gone = 0;
  const watch = watchDeparture(request, () => gone++, { schedule });
  watch.stop();
  assert.equal(pending.size, 0);
  assert.equal(reads(), 0);
  assert.equal(gone, 0);
});

Deno.test("a client that leaves while watched is noticed at once", () => {
  const { schedule, runAll } = manualSchedule();
  const { request, controller } = watchedRequest();
  let gone = 0;
  watchDeparture(request, () => gone++, { schedule });
  runAll();
  assert.equal(gone, 0);
  controller.abort();
  assert.equal(gone, 1);
});

Deno.test("a client gone before the watch begins is noticed when it begins", () => {
  const { schedule, runAll } = manualSchedule();
  const { request, controller } = watchedRequest();
  let gone = 0;
  watchDeparture(request, () => gone++, { schedule });
  controller.abort();
  assert.equal(gone, 0);
  runAll();
  assert.equal(gone, 1);
});

Deno.test("a stopped watch calls nothing when the client leaves afterwards", () => {
  const { schedule, runAll } = manualSchedule();
  const { request, controller } = watchedRequest();
  let gone = 0;
  const watch = watchDeparture(request, () => gone++, { schedule });
  runAll();
  watch.stop();
  controller.abort();
  assert.equal(gone, 0);
});

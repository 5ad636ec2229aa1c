import assert from "node:assert/strict";
import { AttemptsInFlight, GatewayStopping } from "./attempts_in_flight.ts";

Deno.test("stopping aborts the attempts still tracked, and only those", () => {
  const attempts = new AttemptsInFlight();
  const finished = new AbortController();
  const open = new AbortController();
  const done = attempts.track(finished);
  attempts.track(open);
  done[Symbol.dispose]();
  assert.equal(attempts.size, 1);

  assert.equal(attempts.stopAll(), 1);
  assert.equal(finished.signal.aborted, false);
  assert.ok(open.signal.reason instanceof GatewayStopping);
  assert.equal(attempts.size, 0);
  assert.equal(attempts.stopAll(), 0);
});

Deno.test("attempts leave the list in any order, each once", () => {
  const attempts = new AttemptsInFlight();
  const controllers = Array.from({ length: 4 }, () => new AbortController());
  const tracked = controllers.map((controller) => attempts.track(controller));
  tracked[1]![Symbol.dispose]();
  tracked[1]![Symbol.dispose]();
  tracked[3]![Symbol.dispose]();
  tracked[0]![Symbol.dispose]();
  assert.equal(attempts.size, 1);
  assert.equal(attempts.stopAll(), 1);
  assert.deepEqual(controllers.map((controller) => controller.signal.aborted), [
    false,
    false,
    true,
    false,
  ]);
  tracked[2]![Symbol.dispose]();
  assert.equal(attempts.size, 0);
});

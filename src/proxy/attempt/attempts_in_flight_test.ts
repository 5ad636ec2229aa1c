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

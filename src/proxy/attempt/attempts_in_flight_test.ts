import assert from "node:assert/strict";
import { AttemptsInFlight, GatewayStopping } from "./attempts_in_flight.ts";

Deno.test("stopping aborts the attempts still tracked, and only those", () => {
  const attempts = new AttemptsInFlight();
  const controllers = Array.from({ length: 3 }, () => new AbortController());
  const tracked = controllers.map((controller) => attempts.track(controller));
  tracked[0]![Symbol.dispose]();
  tracked[2]![Symbol.dispose]();
  tracked[2]![Symbol.dispose]();
  assert.equal(attempts.size, 1);

  assert.equal(attempts.stopAll(), 1);
  assert.deepEqual(controllers.map((controller) => controller.signal.aborted), [
    false,
    true,
    false,
  ]);
  assert.ok(controllers[1]!.signal.reason instanceof GatewayStopping);
  // A stopped attempt leaves the list as it settles.
  tracked[1]![Symbol.dispose]();
  assert.equal(attempts.size, 0);
  assert.equal(attempts.stopAll(), 0);
});

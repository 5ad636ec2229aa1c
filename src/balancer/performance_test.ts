import assert from "node:assert/strict";
import { InstancePerformance } from "./performance.ts";

Deno.test("an instance's performance keeps its first token, per-token time and success rate", () => {
  const performance = new InstancePerformance(1000);
  performance.firstTokenAfter(200, 0);
  performance.firstTokenAfter(100, 1000);
  performance.generated(50, 500, 1000);
  performance.generated(0, 500, 1000);
  performance.outcome(true, 0);
  performance.outcome(false, 1000);
  assert.equal(performance.samples, 2);
  assert.ok(Math.abs(performance.firstToken.value! - 150) < 1e-9);
  assert.equal(performance.perToken.value, 10);
  assert.ok(Math.abs(performance.success.value! - 0.5) < 1e-9);
  performance.reset();
  assert.equal(performance.samples, 0);
  assert.equal(performance.firstToken.value, undefined);
  assert.equal(performance.success.value, undefined);
});

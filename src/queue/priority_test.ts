import assert from "node:assert/strict";
import { GatewayError } from "../errors.ts";
import { type PriorityGrant, queuePlace } from "./priority.ts";

const headers = (priority?: string) => new Headers(priority ? { "x-priority": priority } : {});
const key = (priority: PriorityGrant["priority"], priorityHeader = false): PriorityGrant => ({
  id: "k",
  priority,
  priorityHeader,
});

Deno.test("without a header a request takes its key's class, or normal in the anonymous lane", () => {
  assert.deepEqual(queuePlace(key("high"), headers()), { priority: "high", lane: "k" });
  assert.deepEqual(queuePlace(undefined, headers()), { priority: "normal", lane: "anonymous" });
  const grant = key("low");
  assert.equal(queuePlace(grant, headers()), queuePlace(grant, headers()), "made once per key");
});

Deno.test("the header may lower the class; raising it needs priority-header", () => {
  assert.deepEqual(queuePlace(key("normal"), headers("low")), { priority: "low", lane: "k" });
  assert.deepEqual(queuePlace(undefined, headers(" LOW ")), {
    priority: "low",
    lane: "anonymous",
  });
  assert.deepEqual(queuePlace(key("low", true), headers("high")), { priority: "high", lane: "k" });
  assert.throws(() => queuePlace(key("normal"), headers("high")), (error) => {
    assert.ok(error instanceof GatewayError);
    assert.equal(error.status, 403);
    assert.match(error.message, /"k" may not raise .* above "normal"/);
    return true;
  });
  assert.throws(() => queuePlace(undefined, headers("high")), /"anonymous" may not raise/);
});

Deno.test("an unknown class is a 400 naming the header and the classes", () => {
  assert.throws(() => queuePlace(key("normal", true), headers("urgent")), (error) => {
    assert.ok(error instanceof GatewayError);
    assert.equal(error.status, 400);
    assert.equal(error.code, "invalid_priority");
    assert.match(error.message, /x-priority header must be one of high, normal, low, got "urgent"/);
    return true;
  });
});

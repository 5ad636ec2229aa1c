import assert from "node:assert/strict";
import { type RecentRequest, RecentRequests } from "./recent_requests.ts";

function request(requestId: string, status = 200): RecentRequest {
  return {
    arrivedAt: 0,
    requestId,
    service: "chat",
    model: "m",
    instance: "m@http://127.0.0.1:9/v1/chat/completions",
    attempts: 1,
    fallback: null,
    status,
    outcome: "complete",
    timeToFirstToken: null,
    duration: 5,
    inputTokens: null,
    outputTokens: null,
  };
}

Deno.test("the latest requests are kept by id, the oldest dropped past the size", () => {
  const recent = new RecentRequests(2);
  recent.add(request("a"));
  recent.add(request("b"));
  recent.add(request("c"));
  assert.equal(recent.get("a"), undefined);
  assert.equal(recent.get("b")?.requestId, "b");
  assert.equal(recent.get("c")?.requestId, "c");

  // An id sent again is the newest: the older of the others goes first.
  recent.add(request("b", 500));
  recent.add(request("d"));
  assert.equal(recent.get("c"), undefined);
  assert.equal(recent.get("b")?.status, 500);
});

import assert from "node:assert/strict";
import { type FinishedRequest, RecentRequests } from "./recent_requests.ts";

function request(requestId: string, status = 200): FinishedRequest {
  return {
    arrivedAt: 0,
    requestId,
    service: "chat",
    requestedModel: "m",
    instance: { id: "m@http://127.0.0.1:9/v1/chat/completions" },
    attempts: 1,
    fallback: undefined,
    status,
    outcome: "complete",
    firstChunk: undefined,
    duration: 5,
    usage: undefined,
    streamedTokens: undefined,
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

Deno.test("a kept request reads back as its record said, with none for what it lacked", () => {
  const recent = new RecentRequests(3);
  recent.add({
    ...request("x"),
    requestedModel: "q".repeat(300),
    firstChunk: 12.5,
    usage: { input: 7, output: 9 },
  });
  recent.add({ ...request("y"), instance: undefined, streamedTokens: 4 });
  assert.deepEqual(recent.get("x"), {
    arrivedAt: 0,
    requestId: "x",
    service: "chat",
    model: "q".repeat(200),
    instance: "m@http://127.0.0.1:9/v1/chat/completions",
    attempts: 1,
    fallback: null,
    status: 200,
    outcome: "complete",
    timeToFirstToken: 12.5,
    duration: 5,
    inputTokens: 7,
    outputTokens: 9,
  });
  const y = recent.get("y");
  assert.equal(y?.instance, null);
  assert.equal(y?.timeToFirstToken, null);
  assert.equal(y?.inputTokens, null);
  assert.equal(y?.outputTokens, 4);
  assert.equal(recent.get("z"), undefined);
});

import assert from "node:assert/strict";
import type { BodyEnd } from "../observe/proxy_observer.ts";
import { RequestRecord } from "../observe/request_record.ts";
import { RequestStatistics, verdictOf } from "./request_statistics.ts";

const SINK = { readsUsage: false, bodies: undefined, settled() {}, finished() {} };

function record(
  fields: { model?: string; status: number; outcome?: BodyEnd; firstChunk?: number },
): RequestRecord {
  const made = new RequestRecord(
    { service: "chat", requestId: "r", method: "POST", path: "/v1/chat/completions", clientIp: "" },
    0,
    undefined,
    SINK,
  );
  made.model = fields.model ?? "m";
  made.status = fields.status;
  made.outcome = fields.outcome ?? "complete";
  made.firstByte = 5;
  made.firstChunk = fields.firstChunk;
  made.duration = 100;
  return made;
}

Deno.test("a request succeeds below 400 delivered whole, fails on 5xx or a cut answer", () => {
  assert.equal(verdictOf(record({ status: 200 })), "succeeded");
  assert.equal(verdictOf(record({ status: 503 })), "failed");
  assert.equal(verdictOf(record({ status: 200, outcome: "upstream_broken" })), "failed");
  assert.equal(verdictOf(record({ status: 200, outcome: "timeout" })), "failed");
  assert.equal(verdictOf(record({ status: 200, outcome: "client_closed" })), "neither");
  assert.equal(verdictOf(record({ status: 429 })), "neither");
});

Deno.test("per model, requests are counted and successes measured; unknown models are not", () => {
  const statistics = new RequestStatistics(1_000);
  statistics.finished(record({ status: 200, firstChunk: 40 }));
  statistics.finished(record({ status: 200 }));
  statistics.finished(record({ status: 502 }));
  statistics.finished(record({ status: 400 }));
  statistics.finished(record({ model: "_unknown", status: 404 }));
  const stats = statistics.model("m");
  assert.ok(stats);
  assert.deepEqual([stats.requests, stats.succeeded, stats.failed], [4, 2, 1]);
  assert.equal(stats.successRate, 2 / 3);
  // The stream's first chunk, else the answer's head.
  assert.deepEqual([stats.firstToken.percentile(0), stats.firstToken.percentile(1)], [5, 40]);
  assert.equal(stats.duration.count, 2);
  assert.equal(statistics.model("_unknown"), undefined);
});

import assert from "node:assert/strict";
import { Telemetry } from "./telemetry.ts";

const CLOCK = 1_700_000_000_000;
const arrival = {
  service: "chat",
  requestId: "r1",
  method: "POST",
  path: "/v1/chat/completions",
  clientIp: "127.0.0.1",
} as const;

Deno.test("a request's record counts from the moment its record starts", () => {
  const record = new Telemetry({ now: () => CLOCK }).start(arrival);
  assert.equal(record.arrivedAt, CLOCK);
  assert.ok(record.elapsed() < 40);
});

Deno.test("a request that waited for its turn counts from its arrival, before the wait", () => {
  const record = new Telemetry({ now: () => CLOCK }).start({
    ...arrival,
    arrived: performance.now() - 40,
  });
  assert.ok(record.elapsed() >= 40, `elapsed ${record.elapsed()} ms`);
  assert.ok(record.arrivedAt <= CLOCK - 40, `arrived ${CLOCK - record.arrivedAt} ms before`);
  assert.ok(record.arrivedAt > CLOCK - 1000);
});

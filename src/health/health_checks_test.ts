import assert from "node:assert/strict";
import { newBackendState } from "./backend_state.ts";
import { type ProbeResult, recordProbe } from "./health_checks.ts";

const SETTINGS = { unhealthyThreshold: 3, healthyThreshold: 2 };
const OK: ProbeResult = { ok: true };
const TIMEOUT: ProbeResult = { ok: false, reason: "no answer within 2000 ms", decisive: false };
const REFUSED: ProbeResult = { ok: false, reason: "cannot connect", decisive: true };

Deno.test("an unknown backend is up after its first good probe", () => {
  const { health } = newBackendState("vllm http://a");
  assert.equal(health.status, "unknown");
  assert.equal(recordProbe(health, OK, SETTINGS, 1_000), true);
  assert.equal(health.status, "up");
  assert.equal(health.changedAt, new Date(1_000).toISOString());
  assert.equal(health.lastOkAt, 1_000);
});

Deno.test("a backend goes down after unhealthy-threshold failed probes in a row", () => {
  const { health } = newBackendState("k");
  recordProbe(health, OK, SETTINGS, 0);
  assert.equal(recordProbe(health, TIMEOUT, SETTINGS, 10), false);
  assert.equal(recordProbe(health, TIMEOUT, SETTINGS, 20), false);
  assert.equal(health.status, "up");
  assert.equal(health.lastFailure, "no answer within 2000 ms");
  assert.equal(recordProbe(health, TIMEOUT, SETTINGS, 30), true);
  assert.equal(health.status, "down");
  assert.match(health.reason, /3 probes failed in a row, the last: no answer within 2000 ms/);
  assert.equal(health.changedAt, new Date(30).toISOString());
});

Deno.test("a good probe in between restarts the count of failures", () => {
  const { health } = newBackendState("k");
  recordProbe(health, OK, SETTINGS, 0);
  recordProbe(health, TIMEOUT, SETTINGS, 1);
  recordProbe(health, TIMEOUT, SETTINGS, 2);
  recordProbe(health, OK, SETTINGS, 3);
  recordProbe(health, TIMEOUT, SETTINGS, 4);
  recordProbe(health, TIMEOUT, SETTINGS, 5);
  assert.equal(health.status, "up");
});

Deno.test("a refused connection or a 5xx takes the backend down at once", () => {
  const { health } = newBackendState("k");
  assert.equal(recordProbe(health, REFUSED, SETTINGS, 5), true);
  assert.equal(health.status, "down");
  assert.equal(health.reason, "cannot connect");
});

Deno.test("a down backend comes back after healthy-threshold good probes", () => {
  const { health } = newBackendState("k");
  recordProbe(health, REFUSED, SETTINGS, 0);
  assert.equal(recordProbe(health, OK, SETTINGS, 10), false);
  assert.equal(health.status, "down");
  assert.equal(recordProbe(health, OK, SETTINGS, 20), true);
  assert.equal(health.status, "up");
  assert.equal(health.reason, "answered 2 probes in a row");
  assert.equal(health.lastFailure, null);
});

Deno.test("failures while down change nothing but the last failure", () => {
  const { health } = newBackendState("k");
  recordProbe(health, REFUSED, SETTINGS, 0);
  assert.equal(recordProbe(health, TIMEOUT, SETTINGS, 10), false);
  assert.equal(health.changedAt, new Date(0).toISOString());
  assert.equal(health.reason, "cannot connect");
  assert.equal(health.lastFailure, "no answer within 2000 ms");
});

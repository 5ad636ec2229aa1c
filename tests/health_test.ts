/**
 * Liveness and readiness, in-process: `/ready` turns 503 while the gateway drains.
 */
import assert from "node:assert/strict";
import { startGateway } from "./fixtures/gateway.ts";

Deno.test("/health stays up and /ready answers 503 once draining", async () => {
  await using gateway = await startGateway("model:\n  services: {}\n");
  const health = await fetch(`${gateway.url}/health`);
  assert.equal(health.status, 200);
  assert.deepEqual(await health.json(), { status: "ok" });
  const ready = await fetch(`${gateway.url}/ready`);
  assert.equal(ready.status, 200);
  assert.deepEqual(await ready.json(), { status: "ready" });

  gateway.gateway.drain();
  const draining = await fetch(`${gateway.url}/ready`);
  assert.equal(draining.status, 503);
  assert.deepEqual(await draining.json(), { status: "draining" });
  const stillAlive = await fetch(`${gateway.url}/health`);
  assert.equal(stillAlive.status, 200);
  await stillAlive.body?.cancel();
});

/**
 * Why an admin made a change: `X-Change-Reason` on an admin write is kept with the config
 * version it makes and in the audit trail.
 */
import assert from "node:assert/strict";
import { adminCall, type ErrorBody, instancePath } from "./fixtures/admin.ts";
import { startGateway } from "./fixtures/gateway.ts";

const CONFIG = JSON.stringify({
  model: { services: { chat: { instances: [{ name: "m", "base-url": "http://127.0.0.1:9" }] } } },
});
const INSTANCE = instancePath("chat", "m@http://127.0.0.1:9/v1/chat/completions");

async function patch(url: string, headers: Record<string, string>, body: unknown) {
  const response = await fetch(
    `${url}/admin/services/chat/instances/${INSTANCE.split("/").at(-1)}`,
    {
      method: "PATCH",
      headers: { "content-type": "application/json", "if-match": "*", ...headers },
      body: JSON.stringify(body),
    },
  );
  return { status: response.status, body: await response.json() };
}

Deno.test("a change's reason is kept with its version and in the audit trail", async () => {
  await using gateway = await startGateway(CONFIG);
  const url = gateway.url;
  const drained = await patch(url, { "x-change-reason": "GPU 1 reboots at 14:00" }, {
    status: "draining",
  });
  assert.equal(drained.status, 200, JSON.stringify(drained.body));
  // UTF-8 comes percent-encoded, as header values are Latin-1.
  const reweighted = await patch(url, {
    "x-change-reason": encodeURIComponent("扩容后 — weight 3"),
  }, { weight: 3 });
  assert.equal(reweighted.status, 200, JSON.stringify(reweighted.body));
  await patch(url, {}, { weight: 2 });

  const versions = await adminCall<{ versions: { version: number; reason?: string }[] }>(
    url,
    "GET",
    "/admin/config/versions",
  );
  assert.deepEqual(
    versions.body.versions.map((version) => [version.version, version.reason]),
    [[4, undefined], [3, "扩容后 — weight 3"], [2, "GPU 1 reboots at 14:00"], [1, undefined]],
  );
  const audit = await adminCall<{ entries: { version?: number; reason?: string }[] }>(
    url,
    "GET",
    "/admin/audit",
  );
  assert.equal(
    audit.body.entries.find((entry) => entry.version === 2)?.reason,
    "GPU 1 reboots at 14:00",
  );
});

Deno.test("a reason over 500 characters is refused, and nothing changes", async () => {
  await using gateway = await startGateway(CONFIG);
  const refused = await patch(gateway.url, { "x-change-reason": "x".repeat(501) }, {
    weight: 5,
  });
  assert.equal(refused.status, 400);
  assert.equal((refused.body as ErrorBody).error.param, "x-change-reason");
  assert.match((refused.body as ErrorBody).error.message, /501 characters; at most 500/);
  const versions = await adminCall<{ current: number }>(
    gateway.url,
    "GET",
    "/admin/config/versions",
  );
  assert.equal(versions.body.current, 1);
});

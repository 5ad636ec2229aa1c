/**
 * Instance secrets (api-key, secret header values) never leave the gateway through the admin
 * API, its diffs or its audit trail, and a write can keep them without sending them again.
 */
import assert from "node:assert/strict";
import { adminCall, instancePath, type Wrapped } from "./fixtures/admin.ts";
import { startFakeBackend } from "./fixtures/fake_backend.ts";
import { startGateway } from "./fixtures/gateway.ts";
import { postChat } from "./fixtures/requests.ts";

const API_KEY = "sk-live-4f1c9e0b2d";
const HEADER_SECRET = "Bearer hdr-7a3d5c";

function config(backendUrl: string): string {
  return JSON.stringify({
    model: {
      services: {
        chat: {
          instances: [{
            name: "m",
            "base-url": backendUrl,
            "api-key": API_KEY,
            headers: { "X-Upstream-Auth": HEADER_SECRET, "X-Team": "research" },
          }],
        },
      },
    },
  });
}

function assertNoSecret(answer: unknown, where: string): void {
  const text = JSON.stringify(answer);
  assert.ok(!text.includes(API_KEY), `${where} holds the api-key: ${text}`);
  assert.ok(!text.includes("hdr-7a3d5c"), `${where} holds the header secret: ${text}`);
}

async function sentKeys(
  url: string,
  backend: Awaited<ReturnType<typeof startFakeBackend>>,
  n: number,
) {
  const response = await postChat(url, { model: "m" });
  assert.equal(response.status, 200, await response.text());
  const received = await backend.received(n);
  return {
    authorization: received.headers.get("authorization"),
    header: received.headers.get("x-upstream-auth"),
  };
}

Deno.test("admin reads show instance secrets redacted, and other headers as written", async () => {
  await using backend = await startFakeBackend();
  await using gateway = await startGateway(config(backend.url));
  const url = gateway.url;
  const id = `m@${backend.url}/v1/chat/completions`;
  const reads = {
    config: await adminCall(url, "GET", "/admin/config"),
    instances: await adminCall(url, "GET", "/admin/services/chat/instances"),
    instance: await adminCall(url, "GET", instancePath("chat", id)),
    version: await adminCall(url, "GET", "/admin/config/versions/1"),
    jairouter: await adminCall<Wrapped<unknown>>(url, "GET", "/api/config/instance/type/chat"),
  };
  for (const [where, read] of Object.entries(reads)) {
    assert.equal(read.status, 200, where);
    assertNoSecret(read.body, where);
  }
  const instance = reads.instance.body as unknown as { config: Record<string, unknown> };
  assert.equal(instance.config["api-key"], "[redacted]");
  assert.deepEqual(instance.config.headers, {
    "X-Upstream-Auth": "[redacted]",
    "X-Team": "research",
  });
  assert.match(JSON.stringify(reads.jairouter.body), /"apiKey":"\[redacted\]"/);
  // The backend still gets the real values.
  assert.deepEqual(await sentKeys(url, backend, 1), {
    authorization: `Bearer ${API_KEY}`,
    header: HEADER_SECRET,
  });
});

Deno.test("a config read and written back with its redactions keeps the secrets", async () => {
  await using backend = await startFakeBackend();
  await using gateway = await startGateway(config(backend.url));
  const url = gateway.url;
  const read = await adminCall<{ config: { services: { chat: { instances: object[] } } } }>(
    url,
    "GET",
    "/admin/config",
  );
  const model = read.body.config;
  model.services.chat.instances[0] = { ...model.services.chat.instances[0], weight: 4 };
  const written = await adminCall(url, "PUT", "/admin/config", {
    ifMatch: read.etag!,
    body: model,
  });
  assert.equal(written.status, 200, JSON.stringify(written.body));
  const after = await adminCall<{ config: Record<string, unknown> }>(
    url,
    "GET",
    instancePath("chat", `m@${backend.url}/v1/chat/completions`),
  );
  assert.equal(after.body.config.weight, 4);
  assert.deepEqual(await sentKeys(url, backend, 1), {
    authorization: `Bearer ${API_KEY}`,
    header: HEADER_SECRET,
  });
});

Deno.test("a redaction where no value is stored is refused, naming the field", async () => {
  await using backend = await startFakeBackend();
  await using gateway = await startGateway(config(backend.url));
  const refused = await adminCall(gateway.url, "POST", "/admin/services/chat/instances", {
    ifMatch: "*",
    body: { name: "other", "base-url": backend.url, "api-key": "[redacted]" },
  });
  assert.equal(refused.status, 400, JSON.stringify(refused.body));
  assert.equal(refused.body.error.code, "invalid_config");
  assert.match(refused.body.error.message, /instances\[1\]\.api-key/);
  assert.match(refused.body.error.message, /has none to keep/);
});

Deno.test("a changed key shows as changed in the diff and the audit trail, never in clear", async () => {
  await using backend = await startFakeBackend();
  await using gateway = await startGateway(config(backend.url));
  const url = gateway.url;
  const id = `m@${backend.url}/v1/chat/completions`;
  const changed = await adminCall(url, "PATCH", instancePath("chat", id), {
    ifMatch: '"v1"',
    body: { "api-key": "sk-rotated-55aa", headers: { "X-Upstream-Auth": "Bearer hdr-new-77" } },
  });
  assert.equal(changed.status, 200, JSON.stringify(changed.body));
  assert.equal((await sentKeys(url, backend, 1)).authorization, "Bearer sk-rotated-55aa");

  const diff = await adminCall<{ changes: { path: string; op: string }[] }>(
    url,
    "GET",
    "/admin/config/diff?from=1&to=2",
  );
  assert.deepEqual(diff.body.changes, [
    {
      path: `services.chat.instances[m@${backend.url}].api-key`,
      op: "changed",
      before: "[redacted]",
      after: "[redacted]",
    },
    {
      path: `services.chat.instances[m@${backend.url}].headers.X-Upstream-Auth`,
      op: "changed",
      before: "[redacted]",
      after: "[redacted]",
    },
  ]);
  const audit = await adminCall(url, "GET", "/admin/audit");
  assert.equal(audit.status, 200);
  for (const answer of [diff.body, audit.body]) {
    assertNoSecret(answer, "diff and audit");
    assert.ok(!JSON.stringify(answer).includes("rotated-55aa"));
    assert.ok(!JSON.stringify(answer).includes("hdr-new-77"));
  }
});

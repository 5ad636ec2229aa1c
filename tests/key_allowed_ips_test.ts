/**
 * A client key's `allowed-ips`: the key works only from those addresses, as the client address
 * is resolved through trusted proxies; keys made through the admin API take them too.
 */
import assert from "node:assert/strict";
import { adminCall } from "./fixtures/admin.ts";
import { startFakeBackend } from "./fixtures/fake_backend.ts";
import { startGateway } from "./fixtures/gateway.ts";

function config(url: string, options: { allowed: string[]; trusted?: string[] }): string {
  return JSON.stringify({
    server: { "trusted-proxies": options.trusted ?? [] },
    auth: {
      enabled: true,
      keys: [
        { id: "office", key: "sk-office-0000001", "allowed-ips": options.allowed },
        { id: "anywhere", key: "sk-anywhere-00001" },
      ],
    },
    model: { services: { chat: { instances: [{ name: "m", "base-url": url }] } } },
  });
}

async function chat(url: string, key: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...headers },
    body: JSON.stringify({ model: "m", messages: [] }),
  });
  return { status: response.status, body: await response.json() };
}

Deno.test("a key with allowed-ips is refused from elsewhere, with a 403 naming the address", async () => {
  await using backend = await startFakeBackend();
  await using gateway = await startGateway(config(backend.url, { allowed: ["10.0.0.0/8"] }));
  const refused = await chat(gateway.url, "sk-office-0000001");
  assert.equal(refused.status, 403);
  assert.equal(refused.body.error.code, "ip_not_allowed");
  assert.equal(refused.body.error.message, 'The API key "office" may not be used from 127.0.0.1');
  assert.equal((await chat(gateway.url, "sk-anywhere-00001")).status, 200);
  const models = await fetch(`${gateway.url}/v1/models`, {
    headers: { authorization: "Bearer sk-office-0000001" },
  });
  assert.equal(models.status, 403);
  await models.body?.cancel();
});

Deno.test("allowed-ips match the client address behind a trusted proxy", async () => {
  await using backend = await startFakeBackend();
  await using gateway = await startGateway(
    config(backend.url, { allowed: ["10.0.0.0/8", "::1"], trusted: ["127.0.0.1/32"] }),
  );
  const inside = await chat(gateway.url, "sk-office-0000001", { "x-forwarded-for": "10.1.2.3" });
  assert.equal(inside.status, 200, JSON.stringify(inside.body));
  const outside = await chat(gateway.url, "sk-office-0000001", {
    "x-forwarded-for": "203.0.113.9",
  });
  assert.equal(outside.status, 403);
  assert.match(outside.body.error.message, /from 203\.0\.113\.9$/);
});

Deno.test("a key made through the admin API keeps its allowed-ips", async () => {
  await using backend = await startFakeBackend();
  await using gateway = await startGateway(config(backend.url, { allowed: ["127.0.0.1"] }));
  const created = await adminCall<{ key: string; "allowed-ips": string[] }>(
    gateway.url,
    "POST",
    "/admin/keys",
    { body: { id: "lab", "allowed-ips": ["192.168.0.0/16"] } },
  );
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.deepEqual(created.body["allowed-ips"], ["192.168.0.0/16"]);
  assert.equal((await chat(gateway.url, created.body.key)).status, 403);
  assert.equal((await chat(gateway.url, "sk-office-0000001")).status, 200);
  const bad = await adminCall(gateway.url, "POST", "/admin/keys", {
    body: { id: "typo", "allowed-ips": ["10.0.0.0/33"] },
  });
  assert.equal(bad.status, 400);
  assert.match(bad.body.error.message, /allowed-ips\[0\]/);
});

Deno.test("an allowed-ips entry that is not an address or range is a config error", async () => {
  await assert.rejects(
    startGateway(config("http://127.0.0.1:9", { allowed: ["office-network"] })),
    /auth\.keys\[0\]\.allowed-ips\[0\]/,
  );
});

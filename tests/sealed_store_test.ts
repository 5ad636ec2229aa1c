/**
 * Instance secrets sealed in the store with SWITCHYARD_SECRET_KEY: never in the store's file in
 * clear, read back across restarts, and re-sealed when the key is rotated.
 */
import assert from "node:assert/strict";
import { adminCall, instancePath } from "./fixtures/admin.ts";
import { startFakeBackend } from "./fixtures/fake_backend.ts";
import { startGateway } from "./fixtures/gateway.ts";
import { postChat } from "./fixtures/requests.ts";
import { SecretBox, UnsealError } from "../src/store/secret_box.ts";

const API_KEY = "sk-sealed-3e9b7d1a";
const KEY_A = "first-key-of-the-store-0123456789";
const KEY_B = "second-key-of-the-store-9876543210";

function config(backendUrl: string): string {
  return JSON.stringify({
    model: {
      services: {
        chat: { instances: [{ name: "m", "base-url": backendUrl, "api-key": API_KEY }] },
      },
    },
  });
}

async function storeText(kv: Deno.Kv): Promise<string> {
  const values: unknown[] = [];
  for await (const entry of kv.list({ prefix: [] })) values.push(entry.key, entry.value);
  return JSON.stringify(values);
}

async function sentKey(
  url: string,
  backend: Awaited<ReturnType<typeof startFakeBackend>>,
  n: number,
) {
  const response = await postChat(url, { model: "m" });
  assert.equal(response.status, 200, await response.text());
  return (await backend.received(n)).headers.get("authorization");
}

Deno.test("with a key, the store never holds a secret in clear, and a restart reads it", async () => {
  await using backend = await startFakeBackend();
  using kv = await Deno.openKv(":memory:");
  const box = await SecretBox.create(KEY_A);
  {
    await using gateway = await startGateway(config(backend.url), { kv, secrets: box });
    assert.equal(await sentKey(gateway.url, backend, 1), `Bearer ${API_KEY}`);
    const changed = await adminCall(
      gateway.url,
      "PATCH",
      instancePath("chat", `m@${backend.url}/v1/chat/completions`),
      { ifMatch: '"v1"', body: { "api-key": "sk-rotated-upstream-55" } },
    );
    assert.equal(changed.status, 200, JSON.stringify(changed.body));
    assert.equal(await sentKey(gateway.url, backend, 2), "Bearer sk-rotated-upstream-55");
  }
  const stored = await storeText(kv);
  assert.ok(!stored.includes(API_KEY), "the file's key is sealed");
  assert.ok(!stored.includes("sk-rotated-upstream-55"), "the admin API's key is sealed");
  assert.match(stored, new RegExp(`sealed:v1:${box.keyId}:`));

  await using again = await startGateway(config(backend.url), { kv, secrets: box });
  assert.equal(await sentKey(again.url, backend, 3), "Bearer sk-rotated-upstream-55");
});

Deno.test("a store with sealed secrets does not start without its key", async () => {
  await using backend = await startFakeBackend();
  using kv = await Deno.openKv(":memory:");
  {
    await using _ = await startGateway(config(backend.url), {
      kv,
      secrets: await SecretBox.create(KEY_A),
    });
  }
  await assert.rejects(
    startGateway(config(backend.url), { kv }),
    (error: Error) => error instanceof UnsealError && /SWITCHYARD_SECRET_KEY/.test(error.message),
  );
  await assert.rejects(
    startGateway(config(backend.url), { kv, secrets: await SecretBox.create(KEY_B) }),
    (error: Error) => error instanceof UnsealError && /was not given/.test(error.message),
  );
});

Deno.test("a rotated key re-seals the live version at start; older ones need the old key", async () => {
  await using backend = await startFakeBackend();
  using kv = await Deno.openKv(":memory:");
  const first = await SecretBox.create(KEY_A);
  {
    await using _ = await startGateway(config(backend.url), { kv, secrets: first });
  }
  const rotated = await SecretBox.create(KEY_B, [KEY_A]);
  const logs: string[] = [];
  {
    await using gateway = await startGateway(config(backend.url), {
      kv,
      secrets: rotated,
      log: (message) => logs.push(message),
    });
    assert.ok(
      logs.some((line) =>
        line.includes(`Config version 2: secrets sealed with key ${rotated.keyId}`)
      ),
      logs.join("\n"),
    );
    assert.equal(await sentKey(gateway.url, backend, 1), `Bearer ${API_KEY}`);
  }
  // The old key can go: the live version opens with the new one alone.
  await using gateway = await startGateway(config(backend.url), {
    kv,
    secrets: await SecretBox.create(KEY_B),
  });
  assert.equal(await sentKey(gateway.url, backend, 2), `Bearer ${API_KEY}`);
  const old = await adminCall(gateway.url, "GET", "/admin/config/versions/1");
  assert.equal(old.status, 409);
  assert.equal(old.body.error.code, "version_sealed");
  assert.match(old.body.error.message, /SWITCHYARD_PREVIOUS_SECRET_KEYS/);
});

Deno.test("a key given to a store kept in clear seals the live version at start", async () => {
  await using backend = await startFakeBackend();
  using kv = await Deno.openKv(":memory:");
  const logs: string[] = [];
  {
    await using _ = await startGateway(config(backend.url), {
      kv,
      log: (message) => logs.push(message),
    });
  }
  assert.ok(logs.some((line) => line.includes("keeps in clear: set SWITCHYARD_SECRET_KEY")));
  const box = await SecretBox.create(KEY_A);
  await using gateway = await startGateway(config(backend.url), { kv, secrets: box });
  assert.equal(await sentKey(gateway.url, backend, 1), `Bearer ${API_KEY}`);
  const head = await kv.get<{ version: number }>(["switchyard", "config", "head"]);
  const text: string[] = [];
  for await (
    const entry of kv.list<string>({
      prefix: ["switchyard", "config", "body", head.value!.version],
    })
  ) text.push(entry.value);
  assert.ok(!text.join("").includes(API_KEY));
  assert.match(text.join(""), /sealed:v1:/);
});

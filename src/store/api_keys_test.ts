import assert from "node:assert/strict";
import { ApiKeyStore, type StoredApiKey } from "./api_keys.ts";
import { type AuditEntry, AuditStore } from "./audit.ts";
import { StoreLimitError } from "./size.ts";

const KEY: StoredApiKey = {
  id: "team-a",
  digest: "ab".repeat(32),
  enabled: true,
  created: "2026-11-22T12:00:00.000Z",
  by: "ops",
};

function entry(action: string): AuditEntry {
  return { at: "2026-11-22T12:00:00.000Z", by: "ops", action, target: "team-a" };
}

async function actions(audit: AuditStore): Promise<string[]> {
  return (await audit.latest(10)).map((read) => read.action).reverse();
}

Deno.test("a key is created once, changed and deleted, each with its audit entry", async () => {
  using kv = await Deno.openKv(":memory:");
  const audit = new AuditStore(kv);
  const keys = new ApiKeyStore(kv, audit);
  assert.equal(await keys.create(KEY, entry("create")), true);
  assert.equal(await keys.create({ ...KEY, by: "other" }, entry("create again")), false);
  assert.deepEqual(await keys.get("team-a"), KEY);

  const updated = await keys.update(
    "team-a",
    (key) => ({ ...key, enabled: false }),
    (before, after) => entry(`update ${before.enabled} → ${after.enabled}`),
  );
  assert.deepEqual(updated, { ...KEY, enabled: false });
  assert.deepEqual(await keys.list(), [{ ...KEY, enabled: false }]);

  assert.deepEqual(await keys.delete("team-a", () => entry("delete")), { ...KEY, enabled: false });
  assert.equal(await keys.get("team-a"), undefined);
  assert.equal(await keys.update("team-a", (key) => key, () => entry("missing")), undefined);
  assert.equal(await keys.delete("team-a", () => entry("missing")), undefined);
  assert.deepEqual(await actions(audit), ["create", "update true → false", "delete"]);
});

Deno.test("keys lie under the api-keys prefix, and every write bumps the marker", async () => {
  using kv = await Deno.openKv(":memory:");
  const keys = new ApiKeyStore(kv, new AuditStore(kv));
  await keys.create(KEY, entry("create"));
  await keys.delete("team-a", () => entry("delete"));
  await keys.create(KEY, entry("create"));
  assert.deepEqual((await kv.get(["switchyard", "api-keys", "team-a"])).value, KEY);
  assert.deepEqual((await kv.get(["switchyard", "api-keys-changed"])).value, new Deno.KvU64(3n));
});

Deno.test("a watcher hears once at start and again for a change through another handle", async () => {
  using kv = await Deno.openKv(":memory:");
  const heard: (() => void)[] = [];
  const next = () => new Promise<void>((resolve) => heard.push(resolve));
  const first = next();
  const watcher = new ApiKeyStore(kv, new AuditStore(kv)).watch(() =>
    Promise.resolve(heard.shift()?.())
  );
  await first;
  const second = next();
  await new ApiKeyStore(kv, new AuditStore(kv)).create(KEY, entry("create"));
  await second;
  await watcher.stop();
});

Deno.test("a key too large for one KV value is refused, naming the limit", async () => {
  using kv = await Deno.openKv(":memory:");
  const keys = new ApiKeyStore(kv, new AuditStore(kv));
  const models = Array.from({ length: 8_000 }, (_, i) => `模型-${i}`);
  await assert.rejects(
    keys.create({ ...KEY, models }, entry("create")),
    (error: unknown) => error instanceof StoreLimitError && error.limit === 65_536,
  );
  assert.deepEqual(await keys.list(), []);
  await keys.create(KEY, entry("create"));
  await assert.rejects(
    keys.update("team-a", (key) => ({ ...key, models }), () => entry("update")),
    StoreLimitError,
  );
  assert.deepEqual(await keys.get("team-a"), KEY);
});

Deno.test("a watcher's stop waits for the call in progress, so nothing reads a closed store", async () => {
  using kv = await Deno.openKv(":memory:");
  const store = new ApiKeyStore(kv, new AuditStore(kv));
  let calls = 0;
  let started!: () => void;
  const watching = new Promise<void>((resolve) => started = resolve);
  let entered!: () => void;
  const inSecondCall = new Promise<void>((resolve) => entered = resolve);
  let release!: () => void;
  const released = new Promise<void>((resolve) => release = resolve);
  let finished = false;
  const watcher = store.watch(async () => {
    if (++calls < 2) return started();
    entered();
    await released;
    await store.list();
    finished = true;
  });
  await watching;
  await store.create(KEY, entry("create"));
  await inSecondCall;
  const stopped = watcher.stop().then(() => finished);
  release();
  assert.equal(await stopped, true);
});

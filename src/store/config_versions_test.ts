import assert from "node:assert/strict";
import { AuditStore } from "./audit.ts";
import { ConfigVersionStore } from "./config_versions.ts";
import { storedSize, StoreLimitError } from "./size.ts";

interface Small {
  readonly weight: number;
}

const NOW = Date.UTC(2026, 10, 22, 12);

Deno.test("commits become numbered versions, each readable with who, when and why", async () => {
  using kv = await Deno.openKv(":memory:");
  const store = new ConfigVersionStore<Small>(kv, new AuditStore(kv), { now: () => NOW });
  assert.equal(await store.current(), 0);
  assert.equal(await store.head(), undefined);
  assert.deepEqual(await store.commit({ weight: 1 }, { expected: 0, by: "file", action: "load" }), {
    ok: true,
    version: 1,
  });
  assert.deepEqual(
    await store.commit({ weight: 2 }, { expected: 1, by: "admin:ops", action: "weight" }),
    { ok: true, version: 2 },
  );
  assert.deepEqual(await store.head(), {
    version: 2,
    at: "2026-11-22T12:00:00.000Z",
    by: "admin:ops",
    action: "weight",
    config: { weight: 2 },
  });
  assert.deepEqual((await store.get(1))?.config, { weight: 1 });
  assert.equal(await store.get(3), undefined);
  assert.deepEqual((await store.history()).map((info) => [info.version, info.by]), [
    [2, "admin:ops"],
    [1, "file"],
  ]);
});

Deno.test("a writer that read an old version is refused and told the live one", async () => {
  using kv = await Deno.openKv(":memory:");
  const store = new ConfigVersionStore<Small>(kv, new AuditStore(kv));
  await store.commit({ weight: 1 }, { expected: 0, by: "a", action: "load" });
  await store.commit({ weight: 2 }, { expected: 1, by: "a", action: "change" });
  assert.deepEqual(await store.commit({ weight: 3 }, { expected: 1, by: "b", action: "stale" }), {
    ok: false,
    current: 2,
  });
  assert.deepEqual((await store.head())?.config, { weight: 2 });
});

Deno.test("of many writers racing from one version, exactly one wins", async () => {
  using kv = await Deno.openKv(":memory:");
  const writers = Array.from(
    { length: 20 },
    () => new ConfigVersionStore<Small>(kv, new AuditStore(kv)),
  );
  await writers[0]!.commit({ weight: 0 }, { expected: 0, by: "file", action: "load" });
  const results = await Promise.all(
    writers.map((store, i) =>
      store.commit({ weight: i }, { expected: 1, by: `writer-${i}`, action: "race" })
    ),
  );
  const winners = results.filter((result) => result.ok);
  assert.equal(winners.length, 1);
  assert.ok(results.every((result) => result.ok || result.current === 2));
  assert.equal(await writers[0]!.current(), 2);
  assert.equal((await writers[0]!.history()).length, 2, "no half-written version");
});

Deno.test("a config larger than one KV value is stored in chunks and read back whole", async () => {
  using kv = await Deno.openKv(":memory:");
  const store = new ConfigVersionStore<{ instances: string[] }>(kv, new AuditStore(kv));
  const big = { instances: Array.from({ length: 5_000 }, (_, i) => `http://10.0.${i}.1:8000`) };
  assert.ok(JSON.stringify(big).length > 100_000);
  assert.deepEqual(await store.commit(big, { expected: 0, by: "file", action: "load" }), {
    ok: true,
    version: 1,
  });
  assert.deepEqual((await store.head())?.config, big);
});

Deno.test("a watcher hears of versions committed through another handle", async () => {
  using kv = await Deno.openKv(":memory:");
  const heard: number[] = [];
  let resolveHeard: () => void = () => {};
  const store = new ConfigVersionStore<Small>(kv, new AuditStore(kv));
  const watcher = store.watch((version) => {
    heard.push(version);
    if (version === 2) resolveHeard();
  });
  const done = new Promise<void>((resolve) => resolveHeard = resolve);
  const other = new ConfigVersionStore<Small>(kv, new AuditStore(kv));
  await other.commit({ weight: 1 }, { expected: 0, by: "a", action: "load" });
  await other.commit({ weight: 2 }, { expected: 1, by: "a", action: "change" });
  await done;
  watcher.stop();
  assert.deepEqual(heard.at(-1), 2);
  assert.ok(heard.every((version, i) => i === 0 || version > heard[i - 1]!));
});

Deno.test("a change's audit entry is written with its version, and not when refused", async () => {
  using kv = await Deno.openKv(":memory:");
  const audit = new AuditStore(kv);
  const store = new ConfigVersionStore<Small>(kv, audit, { now: () => NOW });
  const entry = (action: string) => (version: number) => ({
    at: new Date(NOW).toISOString(),
    by: "ops",
    action,
    target: "model",
    version,
  });
  await store.commit({ weight: 1 }, { expected: 0, by: "ops", action: "load", audit: entry("a") });
  await store.commit({ weight: 2 }, { expected: 0, by: "ops", action: "late", audit: entry("b") });
  assert.deepEqual(
    (await audit.latest(10)).map((read) => [read.action, read.version]),
    [["a", 1]],
  );
});

Deno.test("a version lies as head, meta and body chunks under the config prefix", async () => {
  using kv = await Deno.openKv(":memory:");
  const store = new ConfigVersionStore<Small>(kv, new AuditStore(kv), { now: () => NOW });
  await store.commit({ weight: 1 }, { expected: 0, by: "file", action: "load" });
  const stored = await Array.fromAsync(kv.list({ prefix: ["switchyard", "config"] }));
  assert.deepEqual(stored.map((entry) => [entry.key, entry.value]), [
    [["switchyard", "config", "body", 1, 0], '{"weight":1}'],
    [["switchyard", "config", "head"], { version: 1 }],
    [["switchyard", "config", "meta", 1], {
      version: 1,
      at: "2026-11-22T12:00:00.000Z",
      by: "file",
      action: "load",
      chunks: 1,
    }],
  ]);
});

interface Named {
  readonly names: string[];
}

/** A config of about `kib` KiB of ASCII text with one CJK model name in it. */
function withCjkName(kib: number): Named {
  const names = Array.from({ length: kib * 32 }, (_, i) => `model-${String(i).padStart(25, "0")}`);
  names[7] = "通义千问";
  return { names };
}

Deno.test("a config with one CJK name is chunked by stored bytes, not characters", async () => {
  using kv = await Deno.openKv(":memory:");
  const store = new ConfigVersionStore<Named>(kv, new AuditStore(kv));
  const config = withCjkName(49);
  assert.ok(JSON.stringify(config).length > 49 * 1024);
  assert.deepEqual(await store.commit(config, { expected: 0, by: "file", action: "load" }), {
    ok: true,
    version: 1,
  });
  assert.deepEqual((await store.head())?.config, config);
  for await (const entry of kv.list({ prefix: ["switchyard", "config", "body", 1] })) {
    assert.ok(storedSize(entry.value) <= 65_536);
  }
});

Deno.test("a version too large for one commit is written in several and read back whole", async () => {
  using kv = await Deno.openKv(":memory:");
  const audit = new AuditStore(kv);
  const store = new ConfigVersionStore<Named>(kv, audit);
  await store.commit(withCjkName(1), { expected: 0, by: "file", action: "load" });
  const big = withCjkName(1_300);
  assert.ok(storedSize(JSON.stringify(big)) > 2 * 819_200);
  const result = await store.commit(big, {
    expected: 1,
    by: "ops",
    action: "replace",
    audit: (version) => ({
      at: "2026-11-22T12:00:00.000Z",
      by: "ops",
      action: "r",
      target: "m",
      version,
    }),
  });
  assert.deepEqual(result, { ok: true, version: 2 });
  assert.deepEqual((await store.head())?.config, big);
  assert.deepEqual((await store.get(1))?.config, withCjkName(1));
  assert.deepEqual((await audit.latest(1)).map((entry) => entry.version), [2]);
  const writers = await Array.fromAsync(kv.list({ prefix: ["switchyard", "config", "writer"] }));
  assert.deepEqual(writers, [], "the claim is gone once the version is live");
});

Deno.test("of large writers racing from one version, one wins and its version reads whole", async () => {
  using kv = await Deno.openKv(":memory:");
  const stores = Array.from(
    { length: 4 },
    () => new ConfigVersionStore<Named>(kv, new AuditStore(kv)),
  );
  await stores[0]!.commit(withCjkName(1), { expected: 0, by: "file", action: "load" });
  const configs = stores.map((_, i) => ({ names: [...withCjkName(1_000).names, `writer-${i}`] }));
  const results = await Promise.all(
    stores.map((store, i) =>
      store.commit(configs[i]!, { expected: 1, by: `w${i}`, action: "race" })
    ),
  );
  const winners = results.flatMap((result, i) => result.ok ? [i] : []);
  assert.equal(winners.length, 1);
  const head = await stores[0]!.head();
  assert.equal(head?.version, 2);
  assert.equal(head?.by, `w${winners[0]}`);
  assert.deepEqual(head?.config, configs[winners[0]!]);
});

Deno.test("a large version loses to a small one committed while it is being written", async () => {
  using kv = await Deno.openKv(":memory:");
  const store = new ConfigVersionStore<Named>(kv, new AuditStore(kv));
  await store.commit(withCjkName(1), { expected: 0, by: "file", action: "load" });
  const large = store.commit(withCjkName(2_000), { expected: 1, by: "big", action: "replace" });
  const small = await store.commit({ names: ["small"] }, {
    expected: 1,
    by: "small",
    action: "edit",
  });
  const result = await large;
  assert.equal([small.ok, result.ok].filter(Boolean).length, 1);
  const head = await store.head();
  assert.equal(head?.version, 2);
  assert.deepEqual(head?.config, small.ok ? { names: ["small"] } : withCjkName(2_000));
});

Deno.test("a version whose description cannot be stored is refused, naming the limit", async () => {
  using kv = await Deno.openKv(":memory:");
  const store = new ConfigVersionStore<Small>(kv, new AuditStore(kv));
  await assert.rejects(
    store.commit({ weight: 1 }, { expected: 0, by: "ops", action: "add 模".repeat(20_000) }),
    (error: unknown) => error instanceof StoreLimitError && error.limit === 65_536,
  );
  assert.equal(await store.current(), 0);
});

Deno.test("a version stored by earlier releases, in 60,000-character chunks, reads back", async () => {
  using kv = await Deno.openKv(":memory:");
  const text = JSON.stringify({ names: ["a".repeat(100_000)] });
  await kv.atomic()
    .set(["switchyard", "config", "body", 1, 0], text.slice(0, 60_000))
    .set(["switchyard", "config", "body", 1, 1], text.slice(60_000))
    .set(["switchyard", "config", "meta", 1], {
      version: 1,
      at: "2026-11-22T12:00:00.000Z",
      by: "file",
      action: "load",
      chunks: 2,
    })
    .set(["switchyard", "config", "head"], { version: 1 })
    .commit();
  const store = new ConfigVersionStore<Named>(kv, new AuditStore(kv));
  assert.deepEqual((await store.head())?.config, JSON.parse(text));
  assert.deepEqual(await store.commit({ names: [] }, { expected: 1, by: "ops", action: "edit" }), {
    ok: true,
    version: 2,
  });
});

Deno.test("a claim left by a writer that stopped midway is taken over and then removed", async () => {
  using kv = await Deno.openKv(":memory:");
  const store = new ConfigVersionStore<Named>(kv, new AuditStore(kv));
  await store.commit(withCjkName(1), { expected: 0, by: "file", action: "load" });
  await kv.set(["switchyard", "config", "writer", 2], "a writer that stopped");
  await kv.set(["switchyard", "config", "body", 2, 0], "half a version");
  const big = withCjkName(1_000);
  assert.deepEqual(await store.commit(big, { expected: 1, by: "ops", action: "replace" }), {
    ok: true,
    version: 2,
  });
  assert.deepEqual((await store.head())?.config, big);
  await kv.set(["switchyard", "config", "writer", 3], "another that stopped");
  await store.commit({ names: [] }, { expected: 2, by: "ops", action: "edit" });
  const writers = await Array.fromAsync(kv.list({ prefix: ["switchyard", "config", "writer"] }));
  assert.deepEqual(writers, []);
});

Deno.test("only the newest versions are kept; older ones are gone whole", async () => {
  using kv = await Deno.openKv(":memory:");
  const store = new ConfigVersionStore<{ text: string }>(kv, new AuditStore(kv), { keep: 3 });
  // The third version is larger than one chunk.
  const large = "x".repeat(200_000);
  for (let version = 1; version <= 6; version++) {
    const text = version === 3 ? large : `v${version}`;
    assert.deepEqual(
      await store.commit({ text }, { expected: version - 1, by: "a", action: `v${version}` }),
      { ok: true, version },
    );
  }
  assert.deepEqual((await store.history()).map((info) => info.version), [6, 5, 4]);
  for (const version of [1, 2, 3]) assert.equal(await store.get(version), undefined);
  assert.deepEqual((await store.get(4))?.config, { text: "v4" });
  const left = [];
  for await (const entry of kv.list({ prefix: ["switchyard", "config", "body"] })) {
    left.push(entry.key[3]);
  }
  assert.deepEqual([...new Set(left)], [4, 5, 6], "no chunk of a pruned version is left");
});

Deno.test("keep 0 keeps every version", async () => {
  using kv = await Deno.openKv(":memory:");
  const store = new ConfigVersionStore<Small>(kv, new AuditStore(kv), { keep: 0 });
  for (let version = 1; version <= 4; version++) {
    await store.commit({ weight: version }, { expected: version - 1, by: "a", action: "w" });
  }
  assert.deepEqual((await store.history()).map((info) => info.version), [4, 3, 2, 1]);
});

import assert from "node:assert/strict";
import { LimiterSnapshotStore, SNAPSHOT_CHUNK_CHARS } from "./limiter_snapshots.ts";

const chunk = (value: string) => ({ value, expireIn: 60_000 });

Deno.test("chunks lie in order below the owner's prefix and read back in order", async () => {
  using kv = await Deno.openKv(":memory:");
  await new LimiterSnapshotStore(kv, "0.0.0.0:8080").write([chunk("[1]"), chunk("[2]")]);
  const stored = await Array.fromAsync(kv.list({ prefix: ["switchyard", "limiters"] }));
  assert.deepEqual(stored.map((entry) => [entry.key, entry.value]), [
    [["switchyard", "limiters", "0.0.0.0:8080", "00000"], "[1]"],
    [["switchyard", "limiters", "0.0.0.0:8080", "00001"], "[2]"],
  ]);
  assert.deepEqual(await new LimiterSnapshotStore(kv, "0.0.0.0:8080").read(), ["[1]", "[2]"]);
  assert.deepEqual(await new LimiterSnapshotStore(kv, "0.0.0.0:9090").read(), []);
});

Deno.test("a smaller snapshot removes the chunks a larger one left, also after a restart", async () => {
  using kv = await Deno.openKv(":memory:");
  const first = new LimiterSnapshotStore(kv, "gateway-a");
  await first.write([chunk("[1]"), chunk("[2]"), chunk("[3]")]);
  await first.write([chunk("[4]"), chunk("[5]")]);
  assert.deepEqual(await first.read(), ["[4]", "[5]"]);

  // A new gateway learns from its read how many chunks the one before it left.
  const restarted = new LimiterSnapshotStore(kv, "gateway-a");
  await restarted.read();
  await restarted.write([]);
  assert.deepEqual(await restarted.read(), []);
});

Deno.test("a chunk of the largest size fits one KV value even in CJK text", async () => {
  using kv = await Deno.openKv(":memory:");
  const store = new LimiterSnapshotStore(kv, "gateway-a");
  const wide = "键".repeat(SNAPSHOT_CHUNK_CHARS);
  await store.write([chunk(wide)]);
  assert.deepEqual(await store.read(), [wide]);
});

import assert from "node:assert/strict";
import { type AuditEntry, AuditStore } from "./audit.ts";

const AT = "2026-11-22T12:00:00.000Z";

function entry(action: string, fields: Partial<AuditEntry> = {}): AuditEntry {
  return { at: AT, by: "ops", action, target: "model", ...fields };
}

Deno.test("entries read back newest first, in order within one millisecond", async () => {
  using kv = await Deno.openKv(":memory:");
  const audit = new AuditStore(kv);
  await audit.append(entry("first"));
  await audit.append(entry("second"));
  await audit.append(entry("third", { at: "2026-11-22T12:00:01.000Z" }));
  assert.deepEqual((await audit.latest(10)).map((read) => read.action), [
    "third",
    "second",
    "first",
  ]);
  assert.deepEqual((await audit.latest(1)).map((read) => read.action), ["third"]);
});

Deno.test("entries lie under the audit prefix, keyed by time", async () => {
  using kv = await Deno.openKv(":memory:");
  await new AuditStore(kv).append(entry("load", { version: 1 }));
  const stored = await Array.fromAsync(kv.list<AuditEntry>({ prefix: ["switchyard", "audit"] }));
  assert.equal(stored.length, 1);
  assert.equal(stored[0]!.key[2], Date.parse(AT));
  assert.deepEqual(stored[0]!.value, entry("load", { version: 1 }));
});

Deno.test("a value too large for one KV value is recorded as its size", async () => {
  using kv = await Deno.openKv(":memory:");
  const audit = new AuditStore(kv);
  const large = { text: "x".repeat(40_000) };
  await audit.append(entry("replace", { before: { small: true }, after: large }));
  const [read] = await audit.latest(1);
  assert.deepEqual(read?.before, { small: true });
  assert.deepEqual(read?.after, { omitted: `${JSON.stringify(large).length} characters of JSON` });
});

Deno.test("a staged entry is written only with the commit it belongs to", async () => {
  using kv = await Deno.openKv(":memory:");
  const audit = new AuditStore(kv);
  await kv.set(["guard"], 1);
  const stale = kv.atomic().check({ key: ["guard"], versionstamp: null });
  audit.stage(stale, entry("refused"));
  assert.equal((await stale.commit()).ok, false);
  const fresh = kv.atomic();
  audit.stage(fresh, entry("made"));
  assert.equal((await fresh.commit()).ok, true);
  assert.deepEqual((await audit.latest(10)).map((read) => read.action), ["made"]);
});

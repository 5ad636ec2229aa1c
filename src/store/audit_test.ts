import assert from "node:assert/strict";
import { type AuditEntry, AuditStore } from "./audit.ts";
import { storedSize, StoreLimitError } from "./size.ts";

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
  assert.deepEqual(read?.after, { omitted: `${storedSize(large)} bytes` });
});

Deno.test("values are measured in stored bytes: CJK text counts two bytes a character", async () => {
  using kv = await Deno.openKv(":memory:");
  const audit = new AuditStore(kv);
  // 20,000 characters: under the old limit of 28,000 characters, but 40,000 bytes stored.
  const wide = { name: "模".repeat(20_000) };
  await audit.append(entry("replace", { before: wide, after: wide }));
  const [read] = await audit.latest(1);
  assert.deepEqual(read?.before, { omitted: `${storedSize(wide)} bytes` });
  assert.deepEqual(read?.after, { omitted: `${storedSize(wide)} bytes` });
  const small = { name: "模".repeat(1_000) };
  await audit.append(entry("small", { after: small }));
  assert.deepEqual((await audit.latest(1))[0]?.after, small);
});

Deno.test("an entry that cannot fit even without its values is refused, naming the limit", async () => {
  using kv = await Deno.openKv(":memory:");
  const audit = new AuditStore(kv);
  await assert.rejects(
    audit.append(entry("add", { target: "模".repeat(40_000) })),
    (error: unknown) =>
      error instanceof StoreLimitError && error.limit === 65_536 &&
      /65536 bytes for one value/.test(error.message),
  );
  assert.deepEqual(await audit.latest(10), []);
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

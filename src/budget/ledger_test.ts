import assert from "node:assert/strict";
import { UsageLedger } from "./ledger.ts";

Deno.test("use counts today and this month, and moves on at midnight and on the 1st", async () => {
  using kv = await Deno.openKv(":memory:");
  let now = Date.UTC(2026, 11, 30, 12);
  const ledger = new UsageLedger(kv, { timeZone: "UTC", now: () => now });
  await ledger.open();
  ledger.record(["key:a"], "m", { requests: 1, input: 10, output: 5, spend: 0.5 });
  assert.deepEqual(ledger.used("key:a", "day"), { requests: 1, tokens: 15, spend: 0.5 });
  now = Date.UTC(2026, 11, 31, 1);
  assert.deepEqual(ledger.used("key:a", "day"), { requests: 0, tokens: 0, spend: 0 });
  assert.deepEqual(ledger.used("key:a", "month"), { requests: 1, tokens: 15, spend: 0.5 });
  ledger.record(["key:a"], "m", { requests: 1 });
  await ledger.flush();
  assert.deepEqual(ledger.used("key:a", "month"), { requests: 2, tokens: 15, spend: 0.5 });
  now = Date.UTC(2027, 0, 1, 0, 0, 1);
  assert.deepEqual(ledger.used("key:a", "month"), { requests: 0, tokens: 0, spend: 0 });
  const rows = await ledger.report("2026-12-01", "2026-12-31");
  assert.deepEqual(rows.map((row) => [row.day, row.subject, row.requests, row.input_tokens]), [
    ["2026-12-30", "key:a", 1, 10],
    ["2026-12-31", "key:a", 1, 0],
  ]);
});

Deno.test("two ledgers on one store see each other's use once both flushed", async () => {
  using kv = await Deno.openKv(":memory:");
  const now = () => Date.UTC(2026, 11, 5, 12);
  const first = new UsageLedger(kv, { timeZone: "UTC", now });
  const second = new UsageLedger(kv, { timeZone: "UTC", now });
  await first.open();
  await second.open();
  first.record(["team:t"], "m", { requests: 2 });
  second.record(["team:t"], "m", { requests: 3 });
  assert.equal(first.used("team:t", "day").requests, 2, "only its own before a flush");
  await first.flush();
  await second.flush();
  await first.flush();
  assert.equal(first.used("team:t", "day").requests, 5);
  assert.equal(second.used("team:t", "day").requests, 5);
  const reopened = new UsageLedger(kv, { timeZone: "UTC", now });
  await reopened.open();
  assert.equal(reopened.used("team:t", "month").requests, 5);
});

Deno.test("a flush asked for during one also stores what was recorded after that one began", async () => {
  using kv = await Deno.openKv(":memory:");
  const now = () => Date.UTC(2026, 11, 5, 12);
  const ledger = new UsageLedger(kv, { timeZone: "UTC", now });
  await ledger.open();
  ledger.record(["key:a"], "m", { requests: 1 });
  const first = ledger.flush();
  ledger.record(["key:a"], "m", { requests: 1 });
  await ledger.flush();
  await first;
  const rows = await new UsageLedger(kv, { timeZone: "UTC", now }).report(
    "2026-12-05",
    "2026-12-05",
  );
  assert.deepEqual(rows.map((row) => row.requests), [2]);
});

Deno.test("use the store refused is kept for the next flush", async () => {
  using kv = await Deno.openKv(":memory:");
  const now = () => Date.UTC(2026, 11, 5, 12);
  const ledger = new UsageLedger(kv, { timeZone: "UTC", now });
  await ledger.open();
  ledger.record(["key:a"], "m", { requests: 3 });
  const atomic = kv.atomic;
  kv.atomic = () => {
    throw new Error("the store is down");
  };
  await assert.rejects(ledger.flush(), /the store is down/);
  assert.equal(ledger.used("key:a", "day").requests, 3, "still counted here");
  kv.atomic = atomic;
  await ledger.flush();
  assert.equal(ledger.used("key:a", "day").requests, 3);
  const reopened = new UsageLedger(kv, { timeZone: "UTC", now });
  await reopened.open();
  assert.equal(reopened.used("key:a", "day").requests, 3);
});

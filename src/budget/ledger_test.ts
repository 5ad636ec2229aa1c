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

Deno.test("commits asked for during one join the next: one in flight, each holding what came before it", async () => {
  using kv = await Deno.openKv(":memory:");
  const now = () => Date.UTC(2026, 11, 5, 12);
  const ledger = new UsageLedger(kv, { timeZone: "UTC", now });
  await ledger.open();
  const atomic = kv.atomic.bind(kv);
  let commits = 0;
  const began = Promise.withResolvers<void>();
  const gate = Promise.withResolvers<void>();
  kv.atomic = () => {
    commits++;
    const operation = atomic();
    const commit = operation.commit.bind(operation);
    operation.commit = async () => {
      if (commits === 1) {
        began.resolve();
        await gate.promise;
      }
      return commit();
    };
    return operation;
  };
  ledger.record(["key:a"], "m", { requests: 1 });
  const first = ledger.commit();
  ledger.record(["key:a"], "m", { requests: 1 });
  assert.equal(ledger.commit(), first, "a commit not begun yet is joined");
  await began.promise;
  const joined: Promise<void>[] = [];
  for (let i = 0; i < 9; i++) {
    ledger.record(["key:a"], "m", { requests: 1 });
    joined.push(ledger.commit());
  }
  assert.equal(new Set(joined).size, 1, "the nine asked during the first join one commit");
  assert.notEqual(joined[0], first);
  gate.resolve();
  await first;
  await Promise.all(joined);
  assert.equal(commits, 2);
  assert.equal(ledger.used("key:a", "day").requests, 11, "stored use still counts before a read");
  const stored = new UsageLedger(kv, { timeZone: "UTC", now });
  await stored.open();
  assert.equal(stored.used("key:a", "day").requests, 11);
  await ledger.flush();
  assert.equal(ledger.used("key:a", "day").requests, 11, "and once, after the read");
});

Deno.test("a commit the store refuses is told once, and its use is kept for the next", async () => {
  using kv = await Deno.openKv(":memory:");
  const now = () => Date.UTC(2026, 11, 5, 12);
  const failures: string[] = [];
  const ledger = new UsageLedger(kv, {
    timeZone: "UTC",
    now,
    onCommitFailed: (error) => failures.push(String(error)),
  });
  await ledger.open();
  const atomic = kv.atomic;
  kv.atomic = () => {
    throw new Error("the store is down");
  };
  ledger.record(["key:a"], "m", { requests: 2 });
  await ledger.commit();
  ledger.record(["key:a"], "m", { requests: 1 });
  await ledger.commit();
  assert.deepEqual(failures, ["Error: the store is down"]);
  assert.equal(ledger.used("key:a", "day").requests, 3);
  kv.atomic = atomic;
  await ledger.commit();
  const stored = new UsageLedger(kv, { timeZone: "UTC", now });
  await stored.open();
  assert.equal(stored.used("key:a", "day").requests, 3);
});

Deno.test("a store that hangs holds a commit no longer than commitWait, and is told once", async () => {
  using kv = await Deno.openKv(":memory:");
  const now = () => Date.UTC(2026, 11, 5, 12);
  const failures: string[] = [];
  const waits: { callback: () => void; ms: number; cancelled: boolean }[] = [];
  const ledger = new UsageLedger(kv, {
    timeZone: "UTC",
    now,
    onCommitFailed: (error) => failures.push((error as Error).message),
    commitWait: 1500,
    schedule: (callback, ms) => {
      const wait = { callback, ms, cancelled: false };
      waits.push(wait);
      return { cancel: () => wait.cancelled = true };
    },
  });
  await ledger.open();
  const release = Promise.withResolvers<void>();
  const atomic = kv.atomic.bind(kv);
  kv.atomic = () => {
    const operation = atomic();
    const commit = operation.commit.bind(operation);
    operation.commit = async () => {
      await release.promise;
      return commit();
    };
    return operation;
  };
  ledger.record(["key:a"], "m", { requests: 1 });
  let settled = false;
  const committing = ledger.commit().then(() => settled = true);
  await Promise.resolve();
  assert.equal(settled, false);
  assert.deepEqual(waits.map((wait) => wait.ms), [1500]);
  waits[0]!.callback();
  await committing;
  assert.deepEqual(failures, ["The store took over 1500 ms to take the usage"]);
  assert.equal(ledger.used("key:a", "day").requests, 1, "still counted here");

  // The store comes back: the hung write ends, and the next commit stores the rest.
  release.resolve();
  ledger.record(["key:a"], "m", { requests: 1 });
  await ledger.commit();
  assert.equal(waits[1]!.cancelled, true);
  assert.equal(failures.length, 1);
  const stored = new UsageLedger(kv, { timeZone: "UTC", now });
  await stored.open();
  assert.equal(stored.used("key:a", "day").requests, 2);
});

import assert from "node:assert/strict";
import type { UsageRow } from "../budget/ledger.ts";
import { totalsOf } from "./usage_totals.ts";

function row(day: string, subject: string, model: string, requests: number): UsageRow {
  return {
    day,
    subject,
    model,
    requests,
    input_tokens: requests * 10,
    output_tokens: requests * 5,
    spend_usd: requests * 0.25,
  };
}

Deno.test("a subject's use is summed over its models, today's on its own", () => {
  const totals = totalsOf([
    row("2026-12-01", "key:alice", "m", 4),
    row("2026-12-05", "key:alice", "m", 2),
    row("2026-12-05", "key:alice", "n", 1),
    row("2026-12-05", "team:research", "m", 3),
  ], "2026-12-05");
  assert.deepEqual(totals.get("key:alice"), {
    today: { requests: 3, tokens: 45, spend: 0.75 },
    month: { requests: 7, tokens: 105, spend: 1.75 },
  });
  assert.deepEqual(totals.get("team:research")?.today, { requests: 3, tokens: 45, spend: 0.75 });
  assert.equal(totals.get("key:bob"), undefined);
});

/**
 * What a request that ended adds to the ledger: its tokens and its cost, under its key and its
 * team. (Its request was counted when it was let through.)
 * @module
 */
import type { RequestRecord } from "../observe/request_record.ts";
import type { UsageLedger } from "./ledger.ts";

/** Adds the tokens and cost of `record` to its key's and team's use. */
export function settleUsage(ledger: UsageLedger, record: RequestRecord): void {
  if (record.client === undefined) return;
  const usage = record.usage;
  const cost = record.cost;
  if (usage === undefined && !cost) return;
  const subjects = record.team === undefined
    ? [`key:${record.client}`]
    : [`key:${record.client}`, `team:${record.team}`];
  ledger.record(subjects, record.model, {
    input: usage?.input ?? 0,
    output: usage?.output ?? 0,
    spend: cost ?? 0,
  });
}

/**
 * What a request that ended adds to the ledger: its tokens and its cost, under its key and its
 * team. (Its request was counted when it was let through.)
 * @module
 */
import type { RequestRecord } from "../observe/request_record.ts";
import type { UsageLedger } from "./ledger.ts";

/**
 * Adds the tokens and cost of `record` to its key's and team's use. A stream whose backend
 * reported no `usage` counts its events as output tokens, so that a backend that ignores
 * `include_usage` does not let streams past a token budget.
 */
export function settleUsage(ledger: UsageLedger, record: RequestRecord): void {
  if (record.client === undefined) return;
  const input = record.usage?.input ?? 0;
  const output = record.outputTokens;
  const cost = record.cost ?? 0;
  if (input === 0 && output === 0 && cost === 0) return;
  const subjects = record.team === undefined
    ? [`key:${record.client}`]
    : [`key:${record.client}`, `team:${record.team}`];
  ledger.record(subjects, record.model, { input, output, spend: cost });
}

/**
 * What each key and team used today and this month, summed from the usage ledger's rows (the
 * rows `GET /admin/usage` answers), over every model.
 * @module
 */
import type { UsageLedger, UsageRow } from "../budget/ledger.ts";

/** Use in one period. */
export interface UsageTotal {
  requests: number;
  /** Input and output tokens. */
  tokens: number;
  /** US dollars. */
  spend: number;
}

/** A subject's use today and this month. */
export interface SubjectUsage {
  readonly today: UsageTotal;
  readonly month: UsageTotal;
}

/** The use of each subject (`key:<id>`, `team:<id>`) today and this month, by subject. */
export async function usageTotals(ledger: UsageLedger): Promise<Map<string, SubjectUsage>> {
  const { day, month } = ledger.periods();
  return totalsOf(await ledger.report(`${month}-01`, day), day);
}

/** Sums `rows` of this month by subject, those of `today` also on their own. */
export function totalsOf(rows: readonly UsageRow[], today: string): Map<string, SubjectUsage> {
  const totals = new Map<string, SubjectUsage>();
  for (const row of rows) {
    let total = totals.get(row.subject);
    if (total === undefined) totals.set(row.subject, total = { today: empty(), month: empty() });
    add(total.month, row);
    if (row.day === today) add(total.today, row);
  }
  return totals;
}

function empty(): UsageTotal {
  return { requests: 0, tokens: 0, spend: 0 };
}

function add(total: UsageTotal, row: UsageRow): void {
  total.requests += row.requests;
  total.tokens += row.input_tokens + row.output_tokens;
  total.spend += row.spend_usd;
}

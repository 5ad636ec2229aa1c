/**
 * Budgets: how many requests, tokens and US dollars a key or a team may use in a day and in a
 * month, checked against the ledger before a request is sent. A request is counted when it is
 * let through; its tokens and cost when it ends.
 * @module
 */
import { GatewayError } from "../errors.ts";
import { retryAfterSeconds } from "../retry/retry_after.ts";
import type { UsageLedger, Used } from "./ledger.ts";

/** A budget section as written: every limit optional. */
export interface BudgetLimits {
  readonly "requests-per-day"?: number | undefined;
  readonly "tokens-per-day"?: number | undefined;
  readonly "spend-per-day"?: number | undefined;
  readonly "requests-per-month"?: number | undefined;
  readonly "tokens-per-month"?: number | undefined;
  readonly "spend-per-month"?: number | undefined;
}

/** The budget of one subject (`key:<id>`, `team:<id>`). */
export interface Budget {
  readonly subject: string;
  /** How a refusal names it: `the API key "alice"`, `the team "research"`. */
  readonly name: string;
  readonly limits: BudgetLimits;
}

const CHECKS = [
  ["requests-per-day", "day", "requests", "daily request budget", "requests"],
  ["tokens-per-day", "day", "tokens", "daily token budget", "tokens"],
  ["spend-per-day", "day", "spend", "daily spend cap", "USD"],
  ["requests-per-month", "month", "requests", "monthly request budget", "requests"],
  ["tokens-per-month", "month", "tokens", "monthly token budget", "tokens"],
  ["spend-per-month", "month", "spend", "monthly spend cap", "USD"],
] as const;

/**
 * The refusal of a request that one of `budgets` does not leave room for (a request budget
 * one more request, a token budget or spend cap any more use), or undefined.
 */
export function budgetRefusal(
  ledger: UsageLedger,
  budgets: readonly Budget[],
  now: number,
): GatewayError | undefined {
  for (const budget of budgets) {
    const used: Partial<Record<"day" | "month", Used>> = {};
    for (const [key, period, measure, what, unit] of CHECKS) {
      const limit = budget.limits[key];
      if (limit === undefined) continue;
      const spent = (used[period] ??= ledger.used(budget.subject, period))[measure];
      const full = measure === "requests" ? spent + 1 > limit : spent >= limit;
      if (!full) continue;
      const periods = ledger.periods(now);
      const renews = period === "day" ? periods.dayEnds : periods.monthEnds;
      return new GatewayError(
        429,
        "budget_exceeded",
        `The ${what} of ${budget.name} (${limit} ${unit}) is used up; it renews at ` +
          new Date(renews).toISOString(),
        {
          type: measure === "tokens" ? "tokens" : "requests",
          headers: { "retry-after": retryAfterSeconds(renews - now) },
        },
      );
    }
  }
  return undefined;
}

import assert from "node:assert/strict";
import { KeyedTokenBudgets, TokenBudget } from "./token_budget.ts";
import { type LiveTokenLimit, reserveTokens } from "./token_limits.ts";
import type { LimitedClient } from "./admission.ts";

const CLIENT: LimitedClient = { ip: "127.0.0.1", apiKey: () => "key" };

function limit(perMinute: number, counts: "input" | "output" | "total" = "total"): LiveTokenLimit {
  const settings = { perMinute, counts };
  return {
    policy: { id: "t#tokens", scope: "global", settings },
    key: { by: "fixed", key: "*" },
    budgets: new KeyedTokenBudgets(settings, 10),
  };
}

Deno.test("a budget refills a minute's tokens in a minute, continuously, up to full", () => {
  const budget = new TokenBudget(600, 0);
  budget.take(600, 0);
  assert.equal(budget.available(0), 0);
  assert.equal(budget.available(1_000), 10, "10 tokens a second");
  assert.equal(budget.available(30_000), 300);
  assert.equal(budget.available(120_000), 600, "never more than full");
  assert.equal(budget.available(-5), 0, "a clock stepping back stands still");
});

Deno.test("a reservation is refused when the budget lacks it, and takes nothing then", () => {
  let now = 0;
  const limits = [limit(100)];
  const first = reserveTokens(limits, CLIENT, { input: 30, output: 40 }, () => now);
  assert.ok(first.allowed);
  assert.equal(first.tightest.decision.remaining, 30);
  assert.equal(first.tightest.decision.reset, 42_000, "70 tokens back at 100 a minute");
  const second = reserveTokens(limits, CLIENT, { input: 30, output: 40 }, () => now);
  assert.ok(!second.allowed);
  assert.equal(second.refusal.decision.remaining, 30);
  assert.equal(second.refusal.decision.retryAfter, 24_000, "40 more tokens come in 24 s");
  assert.equal(second.refusal.asked, 70);
  now = 24_000;
  assert.ok(reserveTokens(limits, CLIENT, { input: 30, output: 40 }, () => now).allowed);
});

Deno.test("settling gives back what the answer did not use, or takes what it used beyond", () => {
  const now = 0;
  const limits = [limit(100)];
  const budget = () => limits[0]!.budgets.budget("*", now).available(now);
  const down = reserveTokens(limits, CLIENT, { input: 20, output: 50 }, () => now);
  assert.ok(down.allowed);
  assert.equal(budget(), 30);
  down.reservation.settle({ input: 20, output: 5 }, true);
  assert.equal(budget(), 75, "45 unused tokens given back");
  down.reservation.settle({ input: 0, output: 0 }, true);
  assert.equal(budget(), 75, "a reservation settles once");

  const up = reserveTokens(limits, CLIENT, { input: 10, output: 10 }, () => now);
  assert.ok(up.allowed);
  up.reservation.settle({ input: 10, output: 90 }, true);
  assert.equal(budget(), -25, "an answer longer than estimated leaves the budget in debt");
  const refused = reserveTokens(limits, CLIENT, { input: 1, output: 0 }, () => now);
  assert.ok(!refused.allowed);
  assert.equal(refused.refusal.decision.retryAfter, 15_600, "26 tokens at 100 a minute");
});

Deno.test("without a count, an answer keeps its reservation and a failure gives it back", () => {
  const now = 0;
  const limits = [limit(100)];
  const budget = () => limits[0]!.budgets.budget("*", now).available(now);
  const answered = reserveTokens(limits, CLIENT, { input: 10, output: 20 }, () => now);
  assert.ok(answered.allowed);
  answered.reservation.settle(undefined, true);
  assert.equal(budget(), 70);
  const failed = reserveTokens(limits, CLIENT, { input: 10, output: 20 }, () => now);
  assert.ok(failed.allowed);
  failed.reservation.settle(undefined, false);
  assert.equal(budget(), 70);
});

Deno.test("a limit counts input, output or total tokens", () => {
  const now = 0;
  const limits = [limit(100, "input"), limit(100, "output")];
  const reserved = reserveTokens(limits, CLIENT, { input: 10, output: 60 }, () => now);
  assert.ok(reserved.allowed);
  assert.equal(limits[0]!.budgets.budget("*", now).available(now), 90);
  assert.equal(limits[1]!.budgets.budget("*", now).available(now), 40);
  assert.equal(reserved.tightest.decision.remaining, 40, "the tightest is the output limit");
  reserved.reservation.settle({ input: 12, output: 3 }, true);
  assert.equal(limits[0]!.budgets.budget("*", now).available(now), 88);
  assert.equal(limits[1]!.budgets.budget("*", now).available(now), 97);
});

Deno.test("a request larger than the whole budget passes only a full one", () => {
  let now = 0;
  const limits = [limit(100)];
  const big = reserveTokens(limits, CLIENT, { input: 50, output: 100 }, () => now);
  assert.ok(big.allowed, "a full budget admits it");
  assert.equal(big.tightest.decision.remaining, 0);
  const next = reserveTokens(limits, CLIENT, { input: 50, output: 100 }, () => now);
  assert.ok(!next.allowed);
  assert.equal(next.refusal.decision.retryAfter, 90_000, "from -50 back to full");
  now = 90_000;
  assert.ok(reserveTokens(limits, CLIENT, { input: 50, output: 100 }, () => now).allowed);
});

Deno.test("one refused limit refuses the request in every limit, taking nothing anywhere", () => {
  const now = 0;
  const roomy = limit(1_000);
  const tight = limit(50);
  const first = reserveTokens([roomy, tight], CLIENT, { input: 30, output: 30 }, () => now);
  assert.ok(first.allowed, "a full budget admits what is larger than it");
  const again = reserveTokens([roomy, tight], CLIENT, { input: 30, output: 30 }, () => now);
  assert.ok(!again.allowed);
  assert.equal(
    roomy.budgets.budget("*", now).available(now),
    940,
    "the roomy limit kept its tokens",
  );
});

Deno.test("budgets are kept per key, full ones dropped first, at most maxKeys", () => {
  const budgets = new KeyedTokenBudgets({ perMinute: 10, counts: "total" }, 2);
  budgets.budget("a", 0).take(5, 0);
  budgets.budget("b", 0).take(5, 0);
  budgets.budget("c", 0);
  assert.equal(budgets.size, 2);
  assert.equal(budgets.peek("b", 10, 0).allowed, false, "b was kept");
  assert.equal(budgets.peek("a", 10, 0).allowed, true, "a, least recently used, was dropped");
  budgets.budget("d", 60_000);
  assert.equal(budgets.size, 1, "full budgets are as good as fresh ones: dropped");
});

Deno.test("budgets not full are saved with their debt and come back refilling from there", () => {
  const settings = { perMinute: 600, counts: "total" as const };
  const budgets = new KeyedTokenBudgets(settings, 10);
  budgets.budget("spent", 0).take(900, 0);
  budgets.budget("light", 0).take(60, 0);
  budgets.budget("full", 0);
  const saved = budgets.entries(0);
  assert.deepEqual(saved.map((entry) => entry.key), ["spent", "light"], "a full one is not saved");
  assert.equal(saved[0]!.idleFrom, 90_000, "900 tokens at 10 a second");

  const restarted = new KeyedTokenBudgets(settings, 10);
  restarted.restore("spent", saved[0]!.state, 30_000);
  restarted.restore("light", saved[1]!.state, 30_000);
  assert.equal(restarted.size, 1, "one full by now is as good as none");
  assert.equal(restarted.budget("spent", 30_000).available(30_000), 0, "-300 and 30 s refilled");
});

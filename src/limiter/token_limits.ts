/**
 * Token limits as requests meet them: a request reserves its estimated tokens in every token
 * limit covering it before it is sent, or is refused without taking any; when it ends, its
 * {@linkcode TokenReservation} settles with the tokens the backend reported, once.
 * @module
 */
import type { TokenUsage } from "../observe/usage.ts";
import type { LimitedClient } from "./admission.ts";
import type { LimitKey } from "./policies.ts";
import type {
  KeyedTokenBudgets,
  TokenBudget,
  TokenCount,
  TokenDecision,
  TokenLimitSettings,
} from "./token_budget.ts";
import type { LimitScope } from "./types.ts";

/** One token limit as written, resolved. */
export interface TokenLimitPolicy {
  /** Where it is written, as for request limits, with `#tokens` added. */
  readonly id: string;
  readonly scope: LimitScope;
  readonly settings: TokenLimitSettings;
}

/** A token limit with its live budgets. */
export interface LiveTokenLimit {
  readonly policy: TokenLimitPolicy;
  readonly key: LimitKey;
  readonly budgets: KeyedTokenBudgets;
}

/** A request's tokens as estimated before it is sent, or as the backend counted them. */
export interface TokenEstimate {
  readonly input: number;
  readonly output: number;
}

/** One token limit's decision. */
export interface MeteredTokens {
  readonly policy: TokenLimitPolicy;
  readonly decision: TokenDecision;
  /** The tokens the request was estimated at, as this limit counts them. */
  readonly asked: number;
}

/** The outcome of reserving a request's tokens. */
export type TokenAdmission =
  | {
    readonly allowed: true;
    readonly reservation: TokenReservation;
    /** The limit with the fewest tokens left, for the response headers. */
    readonly tightest: MeteredTokens;
  }
  | { readonly allowed: false; readonly refusal: MeteredTokens };

/** The tokens of `usage` a limit counting `counts` counts. */
export function countedTokens(usage: TokenEstimate, counts: TokenCount): number {
  return counts === "input"
    ? usage.input
    : counts === "output"
    ? usage.output
    : usage.input + usage.output;
}

/**
 * Reserves `estimate` in every limit of `limits` when each has room for it at `now()`, else
 * takes nothing and answers the refusal that lasts longest. `limits` must not be empty.
 */
export function reserveTokens(
  limits: readonly LiveTokenLimit[],
  client: LimitedClient,
  estimate: TokenEstimate,
  now: () => number,
): TokenAdmission {
  const at = now();
  let refusal: MeteredTokens | undefined;
  let tightest: MeteredTokens | undefined;
  for (const limit of limits) {
    const asked = countedTokens(estimate, limit.policy.settings.counts);
    const decision = limit.budgets.peek(keyFor(limit.key, client), asked, at);
    const metered = { policy: limit.policy, decision, asked };
    if (!decision.allowed) {
      if (!refusal || decision.retryAfter > refusal.decision.retryAfter) refusal = metered;
    } else if (!tightest || decision.remaining < tightest.decision.remaining) {
      tightest = metered;
    }
  }
  if (refusal) return { allowed: false, refusal };
  const held: Held[] = limits.map((limit) => {
    const budget = limit.budgets.budget(keyFor(limit.key, client), at);
    const counts = limit.policy.settings.counts;
    const reserved = countedTokens(estimate, counts);
    budget.take(reserved, at);
    return { budget, counts, reserved };
  });
  return { allowed: true, reservation: new TokenReservation(held, now), tightest: tightest! };
}

/** Tokens taken from one budget for one request. */
interface Held {
  readonly budget: TokenBudget;
  readonly counts: TokenCount;
  readonly reserved: number;
}

/**
 * A request's reserved tokens, settled exactly once: with the backend's count when it reported
 * one (the difference given back or taken), else kept for an answer that was given and given
 * back for one that was not.
 */
export class TokenReservation implements Disposable {
  #held: readonly Held[];
  readonly #now: () => number;

  constructor(held: readonly Held[], now: () => number) {
    this.#held = held;
    this.#now = now;
  }

  /** A reservation that takes over this one's tokens; this one is left with none to settle. */
  move(): TokenReservation {
    const moved = new TokenReservation(this.#held, this.#now);
    this.#held = [];
    return moved;
  }

  /** Gives the tokens back, unsettled or moved on: the request got no answer. */
  [Symbol.dispose](): void {
    this.settle(undefined, false);
  }

  /**
   * Settles with `usage`, the backend's count; without one, keeps the reservation when
   * `answered` (the backend generated an answer of unknown size) and gives it back otherwise.
   * Later calls do nothing.
   */
  settle(usage: TokenUsage | undefined, answered: boolean): void {
    const held = this.#held;
    if (held.length === 0) return;
    this.#held = [];
    if (usage === undefined && answered) return;
    const now = this.#now();
    for (const { budget, counts, reserved } of held) {
      const used = usage === undefined ? 0 : countedTokens(usage, counts);
      budget.take(used - reserved, now);
    }
  }
}

/** Whether every limit of `limits` has room for `estimate` at `now`, taking nothing. */
export function hasTokenRoom(
  limits: readonly LiveTokenLimit[],
  client: LimitedClient,
  estimate: TokenEstimate,
  now: number,
): boolean {
  for (const limit of limits) {
    const asked = countedTokens(estimate, limit.policy.settings.counts);
    if (!limit.budgets.peek(keyFor(limit.key, client), asked, now).allowed) return false;
  }
  return true;
}

/** The refusal among `limits` that ends soonest, for a request every instance refuses. */
export function soonestTokenRefusal(
  limits: readonly LiveTokenLimit[],
  client: LimitedClient,
  estimate: TokenEstimate,
  now: number,
): MeteredTokens | undefined {
  let soonest: MeteredTokens | undefined;
  for (const limit of limits) {
    const asked = countedTokens(estimate, limit.policy.settings.counts);
    const decision = limit.budgets.peek(keyFor(limit.key, client), asked, now);
    if (decision.allowed) continue;
    if (!soonest || decision.retryAfter < soonest.decision.retryAfter) {
      soonest = { policy: limit.policy, decision, asked };
    }
  }
  return soonest;
}

function keyFor(key: LimitKey, client: LimitedClient): string {
  return key.by === "fixed" ? key.key : key.by === "client-ip" ? client.ip : client.apiKey();
}

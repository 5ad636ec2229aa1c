/**
 * The live limiters of every limit in the config, by policy id. A config change keeps the
 * limiters of a policy whose settings did not change, so reloading never hands out a fresh
 * quota; a policy with new settings starts afresh.
 * @module
 */
import { KeyedLimiters } from "./keyed_limiters.ts";
import { createLimiter } from "./mod.ts";
import type { RateLimitPolicy } from "./policies.ts";
import type { SharedCounts } from "./shared_counts.ts";
import type { LimiterSettings, LimiterState, LimitScope } from "./types.ts";
import { isSavedTokenBudget, KeyedTokenBudgets } from "./token_budget.ts";
import type { TokenLimitPolicy } from "./token_limits.ts";

/** Keys (client IPs, API keys…) one policy keeps at most; the least recently used go first. */
export const MAX_KEYS_PER_POLICY = 100_000;

interface PolicyLimiters {
  readonly fingerprint: string;
  readonly limiters: KeyedLimiters;
}

/** One saved limiter: its policy, its key, its settings' fingerprint and state. */
export interface SavedLimiter {
  readonly policy: string;
  readonly key: string;
  readonly fingerprint: string;
  readonly state: LimiterState;
  /** Clock time from which it is as good as fresh, so the saved copy may expire. */
  readonly idleFrom: number;
}

/**
 * Every policy's limiters. Once {@linkcode share}d, the limits with a meaning beyond one
 * gateway (every scope but `client-ip`) share their use with the other gateways of the store.
 */
export class RateLimits {
  readonly #policies = new Map<
    string,
    PolicyLimiters & { readonly scope: LimitScope; readonly settings: LimiterSettings }
  >();
  readonly #tokenPolicies = new Map<
    string,
    { readonly budgets: KeyedTokenBudgets; readonly scope: LimitScope }
  >();
  #shared: SharedCounts | undefined;

  /** Shares the use of every limit but those per client IP, now and from now on, through `shared`. */
  share(shared: SharedCounts): void {
    this.#shared = shared;
    for (const [id, { fingerprint, limiters, scope, settings }] of this.#policies) {
      this.#share(id, fingerprint, scope, limiters, memoryOf(settings));
    }
    for (const [id, { budgets, scope }] of this.#tokenPolicies) {
      this.#share(id, tokenFingerprintOf(budgets.settings), scope, budgets, TOKEN_MEMORY);
    }
  }

  /** The token budgets of a token limit: kept when its settings are unchanged, else new. */
  budgetsFor(policy: TokenLimitPolicy): KeyedTokenBudgets {
    const known = this.#tokenPolicies.get(policy.id)?.budgets;
    const fingerprint = tokenFingerprintOf(policy.settings);
    if (known && tokenFingerprintOf(known.settings) === fingerprint) return known;
    const budgets = new KeyedTokenBudgets(policy.settings, MAX_KEYS_PER_POLICY);
    this.#tokenPolicies.set(policy.id, { budgets, scope: policy.scope });
    this.#share(policy.id, fingerprint, policy.scope, budgets, TOKEN_MEMORY);
    return budgets;
  }

  /** The limiters of a policy: kept when its settings are unchanged, else new. */
  limitersFor(policy: RateLimitPolicy): KeyedLimiters {
    const fingerprint = fingerprintOf(policy.settings);
    const known = this.#policies.get(policy.id);
    if (known?.fingerprint === fingerprint) return known.limiters;
    const limiters = new KeyedLimiters({
      create: (now: number, saved?: LimiterState) => createLimiter(policy.settings, now, saved),
      maxKeys: MAX_KEYS_PER_POLICY,
    });
    const { scope, settings } = policy;
    this.#policies.set(policy.id, { fingerprint, limiters, scope, settings });
    this.#share(policy.id, fingerprint, scope, limiters, memoryOf(settings));
    return limiters;
  }

  /** Forgets the policies not in `ids`, after a config change removed them. */
  retain(ids: ReadonlySet<string>): void {
    for (const policies of [this.#policies, this.#tokenPolicies]) {
      for (const id of policies.keys()) {
        if (ids.has(id)) continue;
        policies.delete(id);
        this.#shared?.unshare(id);
      }
    }
  }

  /** Shares a policy's use, unless it counts client IPs: their limits stay this gateway's own. */
  #share(
    id: string,
    fingerprint: string,
    scope: LimitScope,
    use: KeyedLimiters | KeyedTokenBudgets,
    memory: number,
  ): void {
    if (this.#shared === undefined || scope === "client-ip") return;
    use.shareUse();
    this.#shared.share(id, fingerprint, use, memory);
  }

  /**
   * Every limiter and token budget that is not as good as fresh at `now`, to save: those of
   * limits whose use is shared through the store are left to its counters.
   */
  *saved(now: number): Generator<SavedLimiter> {
    for (const [policy, { fingerprint, limiters, scope }] of this.#policies) {
      if (this.#keptByStore(scope)) continue;
      for (const entry of limiters.entries(now)) {
        yield { policy, fingerprint, ...entry };
      }
    }
    for (const [policy, { budgets, scope }] of this.#tokenPolicies) {
      if (this.#keptByStore(scope)) continue;
      const fingerprint = tokenFingerprintOf(budgets.settings);
      for (const entry of budgets.entries(now)) {
        yield { policy, fingerprint, ...entry };
      }
    }
  }

  /**
   * Puts back a saved limiter or token budget, when its policy still exists with the same
   * settings and its use is not shared through the store: there, the store's counters hold the
   * use made before the restart, and charge it at the first sync, as the others' use.
   */
  restore(saved: SavedLimiter, now: number): boolean {
    if (saved.idleFrom <= now) return false;
    const tokens = this.#tokenPolicies.get(saved.policy);
    if (tokens !== undefined) {
      if (tokenFingerprintOf(tokens.budgets.settings) !== saved.fingerprint) return false;
      if (this.#keptByStore(tokens.scope) || !isSavedTokenBudget(saved.state)) return false;
      tokens.budgets.restore(saved.key, saved.state, now);
      return true;
    }
    const known = this.#policies.get(saved.policy);
    if (known?.fingerprint !== saved.fingerprint || this.#keptByStore(known.scope)) return false;
    known.limiters.restore(saved.key, saved.state, now);
    return true;
  }

  /** Whether a limit of `scope` has its use counted in the store's shared counters. */
  #keptByStore(scope: LimitScope): boolean {
    return this.#shared !== undefined && scope !== "client-ip";
  }
}

/** How long a token limit remembers a use, in ms: a full bucket's worth takes a minute back. */
const TOKEN_MEMORY = 60_000;

/**
 * How long a request limit remembers a use, in ms: about the time its limiters take from
 * empty to as good as fresh.
 */
function memoryOf(settings: LimiterSettings): number {
  const { algorithm, capacity, rate, window, warmUpPeriod } = settings;
  if (algorithm === "sliding-window") return window;
  return capacity / rate * 1000 + (algorithm === "warm-up" ? warmUpPeriod : 0);
}

/** A string equal for equal token limit settings. */
function tokenFingerprintOf(settings: KeyedTokenBudgets["settings"]): string {
  return `${settings.perMinute}|${settings.counts}`;
}

/** A string equal for equal settings. */
function fingerprintOf(settings: LimiterSettings): string {
  const { algorithm, capacity, rate, window, warmUpPeriod, coldFactor } = settings;
  return `${algorithm}|${capacity}|${rate}|${window}|${warmUpPeriod}|${coldFactor}`;
}

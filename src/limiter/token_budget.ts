/**
 * Token budgets: a bucket of `tokens-per-minute` tokens that refills continuously, a full
 * minute's worth in a minute. A request reserves its estimated tokens before it is sent and
 * settles with the backend's count when it ends, so a bucket may go below zero (the answer was
 * longer than estimated); it then refills from there. Plain state over an injected clock.
 * @module
 */
import { EPSILON } from "./_shared.ts";
import type { SharedUse, Use } from "./shared_counts.ts";
import type { LimiterState } from "./types.ts";

/** The token counts a token limit may count, as the config names them. */
export const TOKEN_COUNTS = ["input", "output", "total"] as const;

/** One of {@linkcode TOKEN_COUNTS}. */
export type TokenCount = (typeof TOKEN_COUNTS)[number];

/** A token limit's settings. */
export interface TokenLimitSettings {
  /** Tokens a minute, and the most the bucket holds. */
  readonly perMinute: number;
  /** Which tokens are counted: the prompt's, the answer's, or both. */
  readonly counts: TokenCount;
}

/** A budget's answer to a reservation. */
export interface TokenDecision {
  readonly allowed: boolean;
  /** Whole tokens left after it (0 when none or in debt). */
  readonly remaining: number;
  /** ms until the budget is full again, if nothing more is taken. */
  readonly reset: number;
  /** When refused, ms until the tokens asked for are there; 0 when allowed. */
  readonly retryAfter: number;
}

const MS_PER_MINUTE = 60_000;

/** A bucket as saved: its tokens (negative in debt) at clock time `updatedAt`. */
export interface SavedTokenBudget extends LimiterState {
  readonly tokens: number;
  readonly updatedAt: number;
}

/** Whether `state`, read back from the store, is a bucket {@linkcode TokenBudget.save} wrote. */
export function isSavedTokenBudget(state: LimiterState): state is SavedTokenBudget {
  return typeof state.tokens === "number" && Number.isFinite(state.tokens) &&
    typeof state.updatedAt === "number" && Number.isFinite(state.updatedAt);
}

/** A budget not full when saved, with the clock time from which it would be. */
export interface SavedTokenEntry {
  readonly key: string;
  readonly state: SavedTokenBudget;
  readonly idleFrom: number;
}

/** One bucket of tokens. */
export class TokenBudget {
  readonly #capacity: number;
  readonly #msPerToken: number;
  #tokens: number;
  #updatedAt: number;
  readonly #onTake: ((tokens: number) => void) | undefined;

  /**
   * A full bucket at `now`, or the one `saved` describes (see {@linkcode save}). `onTake` hears
   * every {@linkcode take}, e.g. to share the use with other gateways.
   */
  constructor(
    perMinute: number,
    now: number,
    onTake?: (tokens: number) => void,
    saved?: SavedTokenBudget,
  ) {
    this.#capacity = perMinute;
    this.#msPerToken = MS_PER_MINUTE / perMinute;
    this.#tokens = saved === undefined ? perMinute : Math.min(perMinute, saved.tokens);
    this.#updatedAt = saved === undefined ? now : saved.updatedAt;
    this.#onTake = onTake;
  }

  /** What the bucket holds, to make it again with the constructor after a restart. */
  save(): SavedTokenBudget {
    return { tokens: this.#tokens, updatedAt: this.#updatedAt };
  }

  /** Clock time from which the bucket is full again, if nothing more is taken. */
  idleFrom(): number {
    return this.#updatedAt + Math.max(0, this.#capacity - this.#tokens) * this.#msPerToken;
  }

  /** The tokens in the bucket at `now` (negative while in debt); a clock stepping back stands. */
  available(now: number): number {
    if (now <= this.#updatedAt) return this.#tokens;
    const tokens = this.#tokens + (now - this.#updatedAt) / this.#msPerToken;
    return tokens >= this.#capacity - EPSILON ? this.#capacity : tokens;
  }

  /**
   * Whether `tokens` may be reserved at `now`: when the bucket holds them, or, for a request
   * larger than the whole budget, when the bucket is full. Counts nothing.
   */
  peek(tokens: number, now: number): TokenDecision {
    const available = this.available(now);
    const needed = Math.min(tokens, this.#capacity);
    if (available >= needed - EPSILON) {
      return this.#decision(true, available - tokens, 0);
    }
    return this.#decision(false, available, (needed - available) * this.#msPerToken);
  }

  /** Takes `tokens` (a negative count gives them back) at `now`, below zero if need be. */
  take(tokens: number, now: number): void {
    this.#onTake?.(tokens);
    this.charge(tokens, now);
  }

  /** Takes `tokens` used elsewhere (a negative count gives them back), unheard by `onTake`. */
  charge(tokens: number, now: number): void {
    const tokensNow = this.available(now) - tokens;
    this.#tokens = Math.min(this.#capacity, tokensNow);
    this.#updatedAt = Math.max(this.#updatedAt, now);
  }

  /** The budget's standing at `now`, as a decision that allowed nothing. */
  standing(now: number): TokenDecision {
    return this.#decision(true, this.available(now), 0);
  }

  /** Whether the bucket is full at `now`: as good as a fresh one. */
  isIdle(now: number): boolean {
    return this.available(now) >= this.#capacity - EPSILON;
  }

  #decision(allowed: boolean, left: number, retryAfter: number): TokenDecision {
    return {
      allowed,
      remaining: Math.max(0, Math.floor(left + EPSILON)),
      reset: Math.max(0, (this.#capacity - left) * this.#msPerToken),
      retryAfter: Math.ceil(retryAfter),
    };
  }
}

/** Token budgets by key (a client IP, a digest of an API key, `*`…), in bounded memory. */
export class KeyedTokenBudgets implements SharedUse {
  readonly givesBack = true;
  readonly settings: TokenLimitSettings;
  /** Tokens taken and given back by key since the last sync, once shared; undefined while not. */
  #unsynced: Map<string, Use> | undefined;
  readonly #maxKeys: number;
  /** Least recently used first. */
  readonly #budgets = new Map<string, TokenBudget>();

  constructor(settings: TokenLimitSettings, maxKeys: number) {
    this.settings = settings;
    this.#maxKeys = maxKeys;
  }

  /** The number of keys with a budget kept. */
  get size(): number {
    return this.#budgets.size;
  }

  /** The budget of `key`, made full at `now` on first use, as the most recently used. */
  budget(key: string, now: number): TokenBudget {
    const known = this.#budgets.get(key);
    if (known !== undefined) {
      this.#budgets.delete(key);
      this.#budgets.set(key, known);
      return known;
    }
    return this.#insert(key, now);
  }

  /**
   * A budget for `key`, full or as `saved`, as the most recently used: full ones are dropped
   * first (they are as good as fresh ones: dropping them changes nothing for anyone), then the
   * least recently used while at the bound.
   */
  #insert(key: string, now: number, saved?: SavedTokenBudget): TokenBudget {
    for (const [oldKey, old] of this.#budgets) {
      if (this.#budgets.size < this.#maxKeys && !old.isIdle(now)) break;
      this.#budgets.delete(oldKey);
    }
    const budget = new TokenBudget(
      this.settings.perMinute,
      now,
      (tokens) => this.#noteUse(key, tokens),
      saved,
    );
    this.#budgets.set(key, budget);
    return budget;
  }

  /** The budgets not full at `now`, least recently used first, to save. */
  entries(now: number): SavedTokenEntry[] {
    const entries: SavedTokenEntry[] = [];
    for (const [key, budget] of this.#budgets) {
      const idleFrom = budget.idleFrom();
      if (idleFrom > now) entries.push({ key, state: budget.save(), idleFrom });
    }
    return entries;
  }

  /**
   * Makes `key`'s budget the one `state` describes, as its most recently used; a bucket full by
   * `now` is as good as none, so the key is then left without one.
   */
  restore(key: string, state: SavedTokenBudget, now: number): void {
    this.#budgets.delete(key);
    if (this.#insert(key, now, state).isIdle(now)) this.#budgets.delete(key);
  }

  /** Starts counting the tokens taken and given back, for {@linkcode takeUnsynced}. */
  shareUse(): void {
    this.#unsynced ??= new Map();
  }

  takeUnsynced(): Map<string, Use> {
    const unsynced = this.#unsynced ?? new Map<string, Use>();
    if (this.#unsynced) this.#unsynced = new Map();
    // Counters hold whole tokens: a fraction waits for the next sync.
    const whole = new Map<string, Use>();
    for (const [key, use] of unsynced) {
      const taken = Math.floor(use.taken);
      const givenBack = Math.floor(use.givenBack);
      if (taken > 0 || givenBack > 0) whole.set(key, { taken, givenBack });
      if (use.taken > taken || use.givenBack > givenBack) {
        this.#unsynced!.set(key, {
          taken: use.taken - taken,
          givenBack: use.givenBack - givenBack,
        });
      }
    }
    return whole;
  }

  chargeElsewhere(key: string, amount: number, now: number): void {
    this.budget(key, now).charge(amount, now);
  }

  #noteUse(key: string, tokens: number): void {
    if (this.#unsynced === undefined || tokens === 0) return;
    let use = this.#unsynced.get(key);
    if (use === undefined) this.#unsynced.set(key, use = { taken: 0, givenBack: 0 });
    if (tokens > 0) use.taken += tokens;
    else use.givenBack -= tokens;
  }

  /** What reserving `tokens` for `key` would answer at `now`, counting nothing. */
  peek(key: string, tokens: number, now: number): TokenDecision {
    const known = this.#budgets.get(key);
    return (known ?? new TokenBudget(this.settings.perMinute, now)).peek(tokens, now);
  }
}

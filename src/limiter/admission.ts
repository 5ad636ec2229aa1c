/**
 * Meeting a set of limits: a request is admitted only when every one has room, and then
 * counts against all of them; a refused request counts against none.
 * @module
 */
import type { KeyedLimiters } from "./keyed_limiters.ts";
import type { LimitKey, RateLimitPolicy } from "./policies.ts";
import type { Decision, LimitScope } from "./types.ts";

/** A limit with its live limiters. */
export interface LiveLimit {
  readonly policy: RateLimitPolicy;
  readonly key: LimitKey;
  readonly limiters: KeyedLimiters;
}

/** Who is asking, as limits key them. */
export interface LimitedClient {
  readonly ip: string;
  /** A stable digest of the client's API key (never the key itself); computed on demand. */
  apiKey(): string;
}

/** One limit's decision. */
export interface Metered {
  readonly policy: RateLimitPolicy;
  readonly decision: Decision;
}

/** The outcome of meeting a set of limits. */
export type Admission =
  | {
    readonly allowed: true;
    /** ms to wait before going on: the longest a leaky bucket asks for. */
    readonly delay: number;
    /** The decision with the least budget left, for the response headers. */
    readonly tightest: Metered | undefined;
  }
  | {
    readonly allowed: false;
    /** The refusal that lasts longest. */
    readonly refusal: Metered;
  };

const NO_LIMITS: Admission = { allowed: true, delay: 0, tightest: undefined };

/** What one limit decided on a request. */
export type LimitResult = "allowed" | "delayed" | "rejected";

/** Told of each limit's decision, e.g. to count them. */
export interface LimitObserver {
  rateLimit(scope: LimitScope, result: LimitResult): void;
}

/** Admits a request against every limit, or refuses it without counting it anywhere. */
export function admit(
  limits: readonly LiveLimit[],
  client: LimitedClient,
  now: number,
  observer?: LimitObserver,
): Admission {
  if (limits.length === 0) return NO_LIMITS;
  if (limits.length > 1) {
    let refusal: Metered | undefined;
    for (const limit of limits) {
      const decision = limit.limiters.peek(keyFor(limit.key, client), now);
      if (!decision.allowed && (!refusal || decision.retryAfter > refusal.decision.retryAfter)) {
        refusal = { policy: limit.policy, decision };
      }
    }
    if (refusal) {
      observer?.rateLimit(refusal.policy.scope, "rejected");
      return { allowed: false, refusal };
    }
  }
  let delay = 0;
  let tightest: Metered | undefined;
  for (const limit of limits) {
    const decision = limit.limiters.acquire(keyFor(limit.key, client), now);
    observer?.rateLimit(
      limit.policy.scope,
      !decision.allowed ? "rejected" : decision.delay > 0 ? "delayed" : "allowed",
    );
    if (!decision.allowed) return { allowed: false, refusal: { policy: limit.policy, decision } };
    delay = Math.max(delay, decision.delay);
    if (!tightest || decision.remaining < tightest.decision.remaining) {
      tightest = { policy: limit.policy, decision };
    }
  }
  return { allowed: true, delay, tightest };
}

/** Whether every limit has room for a request, counting nothing. */
export function hasRoom(limits: readonly LiveLimit[], client: LimitedClient, now: number): boolean {
  for (const limit of limits) {
    if (!limit.limiters.peek(keyFor(limit.key, client), now).allowed) return false;
  }
  return true;
}

/** The refusal among `limits` that ends soonest, for a client every instance refuses. */
export function soonestRefusal(
  limits: readonly LiveLimit[],
  client: LimitedClient,
  now: number,
): Metered | undefined {
  let soonest: Metered | undefined;
  for (const limit of limits) {
    const decision = limit.limiters.peek(keyFor(limit.key, client), now);
    if (decision.allowed) continue;
    if (!soonest || decision.retryAfter < soonest.decision.retryAfter) {
      soonest = { policy: limit.policy, decision };
    }
  }
  return soonest;
}

function keyFor(key: LimitKey, client: LimitedClient): string {
  return key.by === "fixed" ? key.key : key.by === "client-ip" ? client.ip : client.apiKey();
}

import type { InstancePerformance } from "./performance.ts";
import type { Price } from "./price.ts";

/** The load a backend last reported, as `least-load` reads it. */
export interface LoadSignals {
  readonly reading: {
    readonly running?: number;
    readonly waiting?: number;
    /** 0 to 1. */
    readonly kvCacheUsage?: number;
  };
  /** Models loaded in memory; undefined when the backend does not say. */
  readonly loaded: ReadonlySet<string> | undefined;
  /** Clock time (ms) the reading was taken. */
  readonly readAt: number;
}

/** Something a strategy can pick: it has a weight and a count of requests in flight. */
export interface Weighted {
  /** A stable identity; the hash ring places an item by it. */
  readonly id: string;
  /** Relative share of traffic, at least 1. */
  readonly weight: number;
  /**
   * Live counters: `active` is the number of requests in flight, `activeTokens` their
   * estimated tokens (prompt and answer); `performance` is what the gateway measured of
   * it, for `fastest`.
   */
  readonly state: {
    readonly active: number;
    readonly activeTokens?: number;
    readonly performance?: Pick<InstancePerformance, "firstToken" | "success">;
  };
  /** What its backend reports, for `least-load`. */
  readonly backend?: { readonly load: LoadSignals | undefined };
  /** What its answers cost, for `cost`; none costs nothing. */
  readonly price?: Price | undefined;
}

/** What a strategy may know about the request it picks for. */
export interface PickContext {
  /** The requested model, which `least-load` prefers to find already loaded. */
  readonly model?: string;
  /** The client's address, the key of `ip-hash` (and of `consistent-hash` without a key). */
  readonly clientIp: string;
  /** The `consistent-hash` key, when the service names a `hash-header` and the request has it. */
  readonly hashKey?: string | undefined;
}

/** Tells whether an item may be picked now (not yet tried, healthy, …). */
export type Eligible<T> = (item: T) => boolean;

/**
 * A load-balancing policy over one fixed pool. Whatever can be computed from the pool (rings,
 * weight tables) is computed when the strategy is built, never per pick.
 */
export interface Strategy<T extends Weighted> {
  /** Picks an eligible item, or `undefined` when none is eligible. */
  pick(context: PickContext, eligible: Eligible<T>): T | undefined;
}

/** Settings a strategy is built with. */
export interface StrategyOptions {
  /** `cost`: the longest expected time to first token (ms) to be picked by price. @default Infinity */
  readonly maxLatency?: number;
  /** @default "md5" */
  readonly hashAlgorithm?: HashAlgorithm;
  /** Ring points per unit of weight for `consistent-hash`. @default 150 */
  readonly virtualNodes?: number;
  /** Source of randomness in [0, 1). @default Math.random */
  readonly random?: () => number;
  /** Clock in ms: the age of load readings and of `fastest`'s measurements. @default Date.now */
  readonly now?: () => number;
}

/** A hash algorithm for the hashing strategies. */
export type HashAlgorithm = "md5" | "sha1" | "sha256" | "sha512";

/** Builds a strategy for a pool. */
export type StrategyFactory = <T extends Weighted>(
  pool: readonly T[],
  options: StrategyOptions,
) => Strategy<T>;

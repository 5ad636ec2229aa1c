/**
 * Limiters by key (a client IP, a digest of an API key, an instance id…), each made on first
 * use, in bounded memory and without timers. Keys are kept from least to most recently used.
 * Each new key first drops a few idle limiters from the least recently used end: an idle
 * limiter is as good as a fresh one, so dropping it changes nothing for anyone. Past `maxKeys`,
 * the least recently used limiter goes even when it is not idle; such forced evictions are
 * counted, since each one hands a client a fresh budget.
 * @module
 */
import type { SharedUse, Use } from "./shared_counts.ts";
import type { Decision, Limiter, LimiterState } from "./types.ts";

/** How a {@linkcode KeyedLimiters} makes its limiters, and how many it keeps. */
export interface KeyedLimitersOptions {
  /** Builds the limiter of a key at clock time `now`: fresh, or from `saved` when restoring. */
  readonly create: (now: number, saved?: LimiterState) => Limiter;
  /** The most keys kept; a whole number, at least 1. */
  readonly maxKeys: number;
}

/** One kept limiter, as saved. */
export interface KeyedLimiterEntry {
  readonly key: string;
  readonly state: LimiterState;
  /** Clock time from which the limiter is as good as fresh, so the saved copy may expire. */
  readonly idleFrom: number;
}

/**
 * Idle limiters looked at, from the least recently used end, each time a key is added. More
 * than one, so that a backlog of idle limiters shrinks while new keys keep coming.
 */
const SWEEP_PER_INSERT = 2;

/** A kept limiter, linked into the order of use. */
interface Slot {
  readonly key: string;
  readonly limiter: Limiter;
  /** The slot used just before this one; undefined for the least recently used. */
  older: Slot | undefined;
  /** The slot used just after this one; undefined for the most recently used. */
  newer: Slot | undefined;
}

/** Limiters by key, made on first use, in bounded memory. */
export class KeyedLimiters implements SharedUse {
  readonly givesBack = false;
  readonly #create: (now: number, saved?: LimiterState) => Limiter;
  readonly #maxKeys: number;
  readonly #slots = new Map<string, Slot>();
  /**
   * The order of use, kept as a linked list rather than as the order of the map: dropping the
   * first entry of a `Map` again and again leaves holes that every later look at its first entry
   * walks over, so an insert at the cap would cost time in proportion to the keys kept.
   */
  #leastRecent: Slot | undefined;
  #mostRecent: Slot | undefined;
  #forcedEvictions = 0;
  /** Requests admitted by key since the last sync, once shared; undefined while not. */
  #unsynced: Map<string, number> | undefined;

  /** @throws {RangeError} when `maxKeys` is not a whole number of at least 1. */
  constructor(options: KeyedLimitersOptions) {
    if (!Number.isInteger(options.maxKeys) || options.maxKeys < 1) {
      throw new RangeError(`maxKeys must be a whole number of at least 1, not ${options.maxKeys}`);
    }
    this.#create = options.create;
    this.#maxKeys = options.maxKeys;
  }

  /** The number of keys with a limiter kept. */
  get size(): number {
    return this.#slots.size;
  }

  /** The most keys kept. */
  get maxKeys(): number {
    return this.#maxKeys;
  }

  /** How many limiters were dropped at the cap before they were idle, since this was made. */
  get forcedEvictions(): number {
    return this.#forcedEvictions;
  }

  /** Admits (and counts) one request of `key` at `now`, or refuses it; keeps the key's limiter. */
  acquire(key: string, now: number): Decision {
    const decision = this.#use(key, now).acquire(now);
    if (decision.allowed && this.#unsynced) {
      this.#unsynced.set(key, (this.#unsynced.get(key) ?? 0) + 1);
    }
    return decision;
  }

  /** Starts counting the requests admitted, for {@linkcode takeUnsynced}. */
  shareUse(): void {
    this.#unsynced ??= new Map();
  }

  takeUnsynced(): Map<string, Use> {
    const use = new Map<string, Use>();
    if (this.#unsynced === undefined) return use;
    for (const [key, taken] of this.#unsynced) use.set(key, { taken, givenBack: 0 });
    this.#unsynced = new Map();
    return use;
  }

  chargeElsewhere(key: string, amount: number, now: number): void {
    if (amount > 0) this.#use(key, now).charge(amount, now);
  }

  /**
   * What {@linkcode acquire} would answer at `now`, counting nothing. A key without a limiter
   * is answered by a fresh one, which is not kept; the order of use does not change.
   */
  peek(key: string, now: number): Decision {
    return (this.#slots.get(key)?.limiter ?? this.#create(now)).peek(now);
  }

  /** Whether `key` has a limiter kept. */
  has(key: string): boolean {
    return this.#slots.has(key);
  }

  /**
   * The limiters worth saving at `now`, that is those not yet idle, least recently used first,
   * so that restoring them in this order gives back the same order of use.
   */
  entries(now: number): KeyedLimiterEntry[] {
    const entries: KeyedLimiterEntry[] = [];
    for (let slot = this.#leastRecent; slot !== undefined; slot = slot.newer) {
      const idleFrom = slot.limiter.idleFrom();
      if (idleFrom > now) entries.push({ key: slot.key, state: slot.limiter.save(), idleFrom });
    }
    return entries;
  }

  /**
   * Makes `key`'s limiter the one `state` describes, as its most recently used. A state that is
   * idle at `now` is as good as fresh, so the key is then simply left without a limiter.
   */
  restore(key: string, state: LimiterState, now: number): void {
    const limiter = this.#create(now, state);
    this.delete(key);
    if (limiter.idleFrom() > now) this.#insert(key, limiter, now);
  }

  /** Drops `key`'s limiter; true when it had one. */
  delete(key: string): boolean {
    const slot = this.#slots.get(key);
    if (slot === undefined) return false;
    this.#unlink(slot);
    this.#slots.delete(key);
    return true;
  }

  /** Drops every limiter. The count of forced evictions is kept. */
  clear(): void {
    this.#slots.clear();
    this.#leastRecent = undefined;
    this.#mostRecent = undefined;
  }

  /** The keys kept, least recently used first. */
  *keys(): Generator<string> {
    for (let slot = this.#leastRecent; slot !== undefined; slot = slot.newer) yield slot.key;
  }

  #use(key: string, now: number): Limiter {
    const slot = this.#slots.get(key);
    if (slot === undefined) return this.#insert(key, this.#create(now), now);
    if (slot !== this.#mostRecent) {
      this.#unlink(slot);
      this.#link(slot);
    }
    return slot.limiter;
  }

  #insert(key: string, limiter: Limiter, now: number): Limiter {
    this.#sweep(now);
    while (this.#slots.size >= this.#maxKeys) {
      const oldest = this.#leastRecent!;
      if (oldest.limiter.idleFrom() > now) this.#forcedEvictions++;
      this.delete(oldest.key);
    }
    const slot: Slot = { key, limiter, older: undefined, newer: undefined };
    this.#slots.set(key, slot);
    this.#link(slot);
    return limiter;
  }

  /** Drops up to {@linkcode SWEEP_PER_INSERT} idle limiters, stopping at one that is not idle. */
  #sweep(now: number): void {
    for (let swept = 0; swept < SWEEP_PER_INSERT; swept++) {
      const oldest = this.#leastRecent;
      if (oldest === undefined || oldest.limiter.idleFrom() > now) return;
      this.delete(oldest.key);
    }
  }

  /** Adds `slot` as the most recently used. */
  #link(slot: Slot): void {
    slot.older = this.#mostRecent;
    slot.newer = undefined;
    if (this.#mostRecent === undefined) this.#leastRecent = slot;
    else this.#mostRecent.newer = slot;
    this.#mostRecent = slot;
  }

  #unlink(slot: Slot): void {
    if (slot.older === undefined) this.#leastRecent = slot.newer;
    else slot.older.newer = slot.newer;
    if (slot.newer === undefined) this.#mostRecent = slot.older;
    else slot.newer.older = slot.older;
    slot.older = undefined;
    slot.newer = undefined;
  }
}

/**
 * Limits shared by several gateways through a store. Each gateway keeps deciding alone, from
 * its own limiters, with no store round trip per request; every sync interval it adds the use
 * it made since the last sync to the store's counters (atomic sums, never a read-modify-write
 * of a total) and reads the totals back. What the others added since it last looked is charged
 * to its own limiters, as requests (or tokens) admitted elsewhere, so each gateway's limiter
 * counts everyone's use, up to one interval late.
 *
 * Counters are kept per count window, so that they expire in the store once nobody adds to
 * them. A window spans as long as the limit remembers a use (a sliding window's `window`, the
 * time a token bucket takes to refill; a minute for tokens), at least a second and four sync
 * intervals, at most {@linkcode MAX_SPAN}. A sync adds to the current window's counter and
 * reads the current and the previous window's: what the others add to a window after this
 * gateway last read it is still seen at the next sync. A gateway that meets a key it has not
 * followed charges the others' use of those two windows at once, at its first sync after: use
 * up to two windows old then counts as if made at that sync, which errs towards refusing.
 *
 * Token limits give tokens back when a request used fewer than it reserved: use and
 * give-backs are two counters, each only ever added to.
 *
 * A store that fails is not retried within the sync: the use not added yet is kept for the
 * next one, decisions go on from local counts alone, and `status` says the sync is failing.
 * @module
 */
import type { Counter, CounterStore } from "../store/shared_counters.ts";

/** Use made by one gateway against one key of a limit. */
export interface Use {
  /** Requests admitted, or tokens taken. */
  taken: number;
  /** Tokens given back; always 0 for request limits. */
  givenBack: number;
}

/** A limit's keyed state (limiters, token budgets) whose use is shared. */
export interface SharedUse {
  /** Whether use may be given back (token limits), so that give-backs are counted too. */
  readonly givesBack: boolean;
  /** The use made here since the last call, by key, in whole units; forgets it. */
  takeUnsynced(): Map<string, Use>;
  /**
   * Counts `amount` used by other gateways against `key` at `now` (a negative amount: given
   * back), without counting it as use made here.
   */
  chargeElsewhere(key: string, amount: number, now: number): void;
}

/** How the sync stands, for `/status.json` and the metrics. */
export interface SyncStatus {
  readonly store: CounterStore["kind"];
  /** ms between syncs. */
  readonly interval: number;
  /** The last sync failed: decisions go on from this gateway's own counts. */
  readonly failing: boolean;
  /** Clock time of the last sync that succeeded; undefined before the first. */
  readonly lastSyncAt: number | undefined;
  /** Syncs that succeeded since start. */
  readonly syncs: number;
  /** Syncs that failed since start. */
  readonly failures: number;
  /** Why the last sync failed, while failing. */
  readonly error: string | undefined;
}

/** Options for {@linkcode SharedCounts}. */
export interface SharedCountsOptions {
  /** ms between syncs. */
  readonly interval: number;
  /** Clock, in ms. @default Date.now */
  readonly now?: () => number;
  /** Told when a sync fails after one that did not (or the first fails). */
  readonly onFailing?: (error: unknown) => void;
  /** Told when a sync succeeds after one that failed. */
  readonly onRecovered?: () => void;
}

/** What one gateway saw of one counter window. */
interface WindowSeen {
  /** What this gateway added to it. */
  mine: number;
  /** What the others had added to it when last read. */
  others: number;
}

/** One key of one limit this gateway shares. */
interface Track {
  readonly limit: string;
  readonly key: string;
  /** The last count window this gateway used the key in. */
  usedIn: number;
  /** By `<window>+` (use) and `<window>-` (give-backs). */
  readonly windows: Map<string, WindowSeen>;
}

interface Source {
  /**
   * The counters' name prefix: the limit, its settings (so new settings count afresh) and its
   * windows' span.
   */
  readonly prefix: string;
  readonly use: SharedUse;
  /** The length of its count windows, in ms. */
  readonly span: number;
}

/** The longest count window: ten minutes. */
export const MAX_SPAN = 600_000;

/**
 * The length of a limit's count windows: as long as it remembers a use (`memory` ms), at
 * least 1 s and four sync `interval`s, at most {@linkcode MAX_SPAN}.
 */
export function countSpan(interval: number, memory: number): number {
  return Math.ceil(Math.min(MAX_SPAN, Math.max(1_000, 4 * interval, memory)));
}

/** Every shared limit of one gateway, and their sync with the store. */
export class SharedCounts {
  readonly #store: CounterStore;
  readonly #interval: number;
  readonly #now: () => number;
  readonly #onFailing: ((error: unknown) => void) | undefined;
  readonly #onRecovered: (() => void) | undefined;
  readonly #sources = new Map<string, Source>();
  readonly #tracks = new Map<string, Track>();
  /** Use taken from the sources that the store has not taken yet, by counter prefix and key. */
  #unsent = new Map<string, Map<string, Use>>();
  /** The last sync asked for; each begins once the one before has ended. */
  #syncing: Promise<void> = Promise.resolve();
  #failing = false;
  #failures = 0;
  #syncs = 0;
  #lastSyncAt: number | undefined;
  #error: string | undefined;

  constructor(store: CounterStore, options: SharedCountsOptions) {
    this.#store = store;
    this.#interval = options.interval;
    this.#now = options.now ?? Date.now;
    this.#onFailing = options.onFailing;
    this.#onRecovered = options.onRecovered;
  }

  /** How the sync stands. */
  get status(): SyncStatus {
    return {
      store: this.#store.kind,
      interval: this.#interval,
      failing: this.#failing,
      lastSyncAt: this.#lastSyncAt,
      syncs: this.#syncs,
      failures: this.#failures,
      error: this.#error,
    };
  }

  /**
   * Shares the use of the limit `id` (a policy id), whose settings `fingerprint` names and which
   * remembers a use for `memory` ms, through `use`, in place of what was shared under `id`
   * before.
   */
  share(id: string, fingerprint: string, use: SharedUse, memory: number): void {
    const span = countSpan(this.#interval, memory);
    this.#sources.set(id, { prefix: `${id}|${fingerprint}|${span}`, use, span });
  }

  /** Stops sharing the limit `id`. */
  unshare(id: string): void {
    this.#sources.delete(id);
  }

  /**
   * Adds the use made here since the last sync to the store, reads the totals back and charges
   * what the others used since to the limiters here. One sync at a time: a call during one
   * waits for it, then syncs what was used since it began. Never rejects: a failure is in
   * {@linkcode status}.
   */
  sync(): Promise<void> {
    return this.#syncing = this.#syncing.then(() => this.#sync());
  }

  async #sync(): Promise<void> {
    const now = this.#now();
    const live = new Map<string, Source>();
    for (const source of this.#sources.values()) live.set(source.prefix, source);
    // What to send: the use not sent before, then the use made since.
    const unsent = this.#unsent;
    this.#unsent = new Map();
    for (const source of live.values()) {
      for (const [key, use] of source.use.takeUnsynced()) {
        addUse(unsent, source.prefix, key, use);
      }
    }
    const adds = new Map<string, Counter & { amount: number }>();
    for (const [prefix, byKey] of unsent) {
      const source = live.get(prefix);
      if (source === undefined) continue;
      const { span } = source;
      const window = Math.floor(now / span);
      for (const [key, use] of byKey) {
        const track = this.#track(prefix, key, window);
        track.usedIn = window;
        for (const [sign, amount] of [["+", use.taken], ["-", use.givenBack]] as const) {
          if (amount <= 0) continue;
          const name = counterName(prefix, key, sign);
          adds.set(`${window}|${name}`, { name, window, span, amount });
        }
      }
    }
    const reads: { track: Track; sign: "+" | "-"; counter: Counter }[] = [];
    for (const [id, track] of this.#tracks) {
      const source = live.get(track.limit);
      const window = source ? Math.floor(now / source.span) : -Infinity;
      // A limit no longer in the config, or a key not used for two windows, is followed no more.
      if (!source || track.usedIn < window - 1) {
        this.#tracks.delete(id);
        continue;
      }
      const signs = source.use.givesBack ? BOTH_SIGNS : USE_ONLY;
      for (const at of [window - 1, window]) {
        for (const sign of signs) {
          const name = counterName(track.limit, track.key, sign);
          reads.push({ track, sign, counter: { name, window: at, span: source.span } });
        }
      }
      // What was seen of windows no longer read is not needed any more.
      for (const seenKey of track.windows.keys()) {
        if (Number.parseInt(seenKey) < window - 1) track.windows.delete(seenKey);
      }
    }
    let totals: number[];
    try {
      const counters = reads.map((read) => read.counter);
      totals = await this.#store.addAndRead([...adds.values()], counters, now);
    } catch (error) {
      for (const [prefix, byKey] of unsent) {
        if (!live.has(prefix)) continue;
        for (const [key, use] of byKey) addUse(this.#unsent, prefix, key, use);
      }
      this.#failures++;
      this.#error = error instanceof Error ? error.message : String(error);
      if (!this.#failing) {
        this.#failing = true;
        this.#onFailing?.(error);
      }
      return;
    }
    const chargedAt = this.#now();
    for (const [index, { track, sign, counter }] of reads.entries()) {
      const seenKey = `${counter.window}${sign}`;
      let seen = track.windows.get(seenKey);
      if (seen === undefined) track.windows.set(seenKey, seen = { mine: 0, others: 0 });
      seen.mine += adds.get(`${counter.window}|${counter.name}`)?.amount ?? 0;
      const others = totals[index]! - seen.mine;
      const more = others - seen.others;
      if (more > 0) {
        seen.others = others;
        live.get(track.limit)?.use.chargeElsewhere(
          track.key,
          sign === "+" ? more : -more,
          chargedAt,
        );
      }
    }
    this.#lastSyncAt = chargedAt;
    this.#syncs++;
    this.#error = undefined;
    if (this.#failing) {
      this.#failing = false;
      this.#onRecovered?.();
    }
  }

  #track(prefix: string, key: string, window: number): Track {
    const id = `${prefix}\u0000${key}`;
    let track = this.#tracks.get(id);
    if (track === undefined) {
      this.#tracks.set(id, track = { limit: prefix, key, usedIn: window, windows: new Map() });
    }
    return track;
  }
}

const BOTH_SIGNS = ["+", "-"] as const;
const USE_ONLY = ["+"] as const;

function counterName(prefix: string, key: string, sign: "+" | "-"): string {
  return `${prefix}|${key}|${sign}`;
}

function addUse(into: Map<string, Map<string, Use>>, prefix: string, key: string, use: Use): void {
  let byKey = into.get(prefix);
  if (byKey === undefined) into.set(prefix, byKey = new Map());
  const known = byKey.get(key);
  if (known === undefined) byKey.set(key, { ...use });
  else {
    known.taken += use.taken;
    known.givenBack += use.givenBack;
  }
}

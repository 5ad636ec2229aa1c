/**
 * Gives memory back to the system once a process has gone quiet after work. A load leaves the
 * process holding what it freed: garbage no collection has reclaimed while nothing allocates,
 * and freed native memory the allocator keeps. Neither costs anything to keep while busy, so the
 * release waits until no work has been in flight for a while, and happens only when resident
 * memory grew since the last one, so that a health check or a metrics scrape now and then does
 * not set off a full collection each time.
 * @module
 */

/** Schedules `callback` after `ms`; returns what calls it off. */
export type IdleSchedule = (callback: () => void, ms: number) => { cancel(): void };

/** Options for {@linkcode IdleRelease}; tests pass a fake clock and schedule. */
export interface IdleReleaseOptions {
  /** The process's resident memory, in bytes. */
  readonly rss: () => number;
  /** Gives memory back: collects garbage and returns freed pages to the system. */
  readonly release: () => void;
  /** How long no work may have been in flight before memory is released, in ms. @default 5000 */
  readonly quietMs?: number;
  /**
   * How far resident memory must have grown since the last release, in bytes, for another one.
   * @default 16 MiB
   */
  readonly minGrowth?: number;
  /** How long after a release resident memory is read as the floor for the next, in ms. @default 1000 */
  readonly settleMs?: number;
  /** Monotonic clock in ms. @default performance.now */
  readonly now?: () => number;
  /** @default setTimeout, unref'd */
  readonly schedule?: IdleSchedule;
}

/** One piece of work in flight; ends once, when disposed. */
class Work implements Disposable {
  #owner: IdleRelease | undefined;

  constructor(owner: IdleRelease) {
    this.#owner = owner;
  }

  [Symbol.dispose](): void {
    const owner = this.#owner;
    this.#owner = undefined;
    owner?.ended();
  }
}

/**
 * Counts work in flight, and releases memory once none has been for `quietMs` after some. The
 * time before the first work counts as work: start-up leaves garbage too. One timer at most is
 * armed, and only while the process is quiet: work beginning and ending costs two counter
 * updates and a clock read.
 */
export class IdleRelease {
  readonly #rss: () => number;
  readonly #release: () => void;
  readonly #quietMs: number;
  readonly #minGrowth: number;
  readonly #settleMs: number;
  readonly #now: () => number;
  readonly #schedule: IdleSchedule;
  #inFlight = 0;
  /** Whether work has been done since the last release (or start). */
  #workSinceRelease = true;
  #lastEnded: number;
  /** Resident memory just after the last release; none before the first. */
  #floor: number | undefined;
  #quietTimer: { cancel(): void } | undefined;
  #settleTimer: { cancel(): void } | undefined;
  #closed = false;

  constructor(options: IdleReleaseOptions) {
    this.#rss = options.rss;
    this.#release = options.release;
    this.#quietMs = options.quietMs ?? 5000;
    this.#minGrowth = options.minGrowth ?? 16 * 1024 * 1024;
    this.#settleMs = options.settleMs ?? 1000;
    this.#now = options.now ?? (() => performance.now());
    this.#schedule = options.schedule ?? unrefSchedule;
    this.#lastEnded = this.#now();
    this.#armQuiet(this.#quietMs);
  }

  /** Work begins; it ends when the returned lease is disposed. */
  begin(): Disposable {
    this.#inFlight++;
    this.#workSinceRelease = true;
    return new Work(this);
  }

  /** Called by a {@linkcode Work} lease, once. */
  ended(): void {
    this.#inFlight--;
    if (this.#inFlight > 0) return;
    this.#lastEnded = this.#now();
    if (this.#quietTimer === undefined) this.#armQuiet(this.#quietMs);
  }

  /** Releases nothing more; calls off the timers. */
  close(): void {
    this.#closed = true;
    this.#quietTimer?.cancel();
    this.#settleTimer?.cancel();
  }

  #armQuiet(ms: number): void {
    if (this.#closed) return;
    this.#quietTimer = this.#schedule(() => {
      this.#quietTimer = undefined;
      this.#quietFor();
    }, ms);
  }

  #quietFor(): void {
    // Work in flight re-arms the timer when the last of it ends.
    if (this.#closed || this.#inFlight > 0) return;
    const quiet = this.#now() - this.#lastEnded;
    if (quiet < this.#quietMs) return this.#armQuiet(this.#quietMs - quiet);
    if (!this.#workSinceRelease) return;
    this.#workSinceRelease = false;
    if (this.#floor !== undefined && this.#rss() - this.#floor < this.#minGrowth) return;
    this.#release();
    this.#settleTimer?.cancel();
    this.#settleTimer = this.#schedule(() => {
      this.#settleTimer = undefined;
      this.#floor = this.#rss();
    }, this.#settleMs);
  }
}

/** `setTimeout`, unref'd: a pending release never keeps a finished process alive. */
const unrefSchedule: IdleSchedule = (callback, ms) => {
  const id = setTimeout(callback, ms);
  Deno.unrefTimer(id);
  return { cancel: () => clearTimeout(id) };
};

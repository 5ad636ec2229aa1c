/**
 * Gives memory back to the system once a process has gone quiet after work. A load leaves the
 * process holding what it freed: garbage no collection has reclaimed while nothing allocates,
 * and freed native memory the allocator keeps. Neither costs anything to keep while busy, so the
 * release waits until no request has been in flight for a while, and happens only when resident
 * memory grew since the last one, so that a request now and then does not set off a full
 * collection each time.
 *
 * It reads counters the gateway keeps anyway, every `quietMs`: nothing is added to a request.
 * @module
 */

/** Schedules `callback` after `ms`; returns what calls it off. */
export type IdleSchedule = (callback: () => void, ms: number) => { cancel(): void };

/** What the release reads of the requests: those in flight, and those finished so far. */
export interface RequestCounts {
  readonly inFlight: number;
  readonly finished: number;
}

/** Options for {@linkcode IdleRelease}; tests pass a fake schedule. */
export interface IdleReleaseOptions {
  /** The requests in flight now, and finished so far. */
  readonly requests: () => RequestCounts;
  /** The process's resident memory, in bytes. */
  readonly rss: () => number;
  /** Gives memory back: collects garbage and returns freed pages to the system. */
  readonly release: () => void;
  /**
   * How often the counts are read, in ms: memory is released once no request is in flight and
   * none finished since the reading before, so after `quietMs` to twice that of quiet.
   * @default 5000
   */
  readonly quietMs?: number;
  /**
   * How far resident memory must have grown since the last release, in bytes, for another one.
   * @default 16 MiB
   */
  readonly minGrowth?: number;
  /** How long after a release resident memory is read as the floor for the next, in ms. @default 1000 */
  readonly settleMs?: number;
  /** @default setTimeout, unref'd */
  readonly schedule?: IdleSchedule;
}

/**
 * Reads the request counts every `quietMs`, and releases memory after a quiet interval that
 * followed work. The time before the first reading counts as work: start-up leaves garbage too.
 */
export class IdleRelease {
  readonly #requests: () => RequestCounts;
  readonly #rss: () => number;
  readonly #release: () => void;
  readonly #quietMs: number;
  readonly #minGrowth: number;
  readonly #settleMs: number;
  readonly #schedule: IdleSchedule;
  /** The counts at the last reading. */
  #last: RequestCounts;
  /** Requests finished when a quiet interval was last acted on; none before the first. */
  #finishedWhenConsidered: number | undefined;
  /** Resident memory just after the last release; none before the first. */
  #floor: number | undefined;
  #timer: { cancel(): void } | undefined;
  #settleTimer: { cancel(): void } | undefined;

  constructor(options: IdleReleaseOptions) {
    this.#requests = options.requests;
    this.#rss = options.rss;
    this.#release = options.release;
    this.#quietMs = options.quietMs ?? 5000;
    this.#minGrowth = options.minGrowth ?? 16 * 1024 * 1024;
    this.#settleMs = options.settleMs ?? 1000;
    this.#schedule = options.schedule ?? unrefSchedule;
    this.#last = this.#requests();
    this.#arm();
  }

  /** Releases nothing more; calls off the timers. */
  close(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#settleTimer?.cancel();
  }

  #arm(): void {
    this.#timer = this.#schedule(() => {
      this.#read();
      if (this.#timer !== undefined) this.#arm();
    }, this.#quietMs);
  }

  #read(): void {
    const last = this.#last;
    const now = this.#requests();
    this.#last = now;
    // A request in flight at the last reading has finished since, or is still in flight.
    const quiet = now.inFlight === 0 && now.finished === last.finished;
    if (!quiet || now.finished === this.#finishedWhenConsidered) return;
    this.#finishedWhenConsidered = now.finished;
    if (this.#floor !== undefined && this.#rss() - this.#floor < this.#minGrowth) return;
    this.#release();
    this.#settleTimer?.cancel();
    this.#settleTimer = this.#schedule(() => {
      this.#settleTimer = undefined;
      this.#floor = this.#rss();
    }, this.#settleMs);
  }
}

/** `setTimeout`, unref'd: a pending reading never keeps a finished process alive. */
const unrefSchedule: IdleSchedule = (callback, ms) => {
  const id = setTimeout(callback, ms);
  Deno.unrefTimer(id);
  return { cancel: () => clearTimeout(id) };
};

/**
 * Watches the request bodies being read, so that one a client stops sending ends instead of
 * holding its connection open. A runtime timer per body would cost more than the rest of a small
 * request's bookkeeping; one repeating sweep serves every body, and a body is only added to a set
 * and taken out of it again.
 * @module
 */
import { LinkedList } from "../../lib/linked_list.ts";

/** One body read under watch; disposing of it ends the watch. */
export interface WatchedBody extends Disposable {
  /** Rejects with the watch's error once the body has gone idle; never resolves. */
  readonly idle: Promise<never>;
  /** Says that bytes arrived: the idle time starts again. */
  progressed(): void;
}

/** Options for {@linkcode BodyIdleWatch}; tests pass a fake repeating timer. */
export interface BodyIdleWatchOptions {
  /** What a body that went idle is rejected with. */
  readonly error: () => Error;
  /** Starts a repeating timer and returns what stops it. @default setInterval */
  readonly startInterval?: (callback: () => void, ms: number) => () => void;
}

/** Sweeps per idle time: a body is cut at most a quarter of the idle time late. */
const SWEEPS_PER_IDLE = 4;

class Entry implements WatchedBody {
  readonly #owner: BodyIdleWatch;
  readonly #stalled = Promise.withResolvers<never>();
  /** The sweep count when bytes last arrived, or when the watch began. */
  lastProgress: number;
  /** The entry's place among the bodies watched. */
  link: Disposable | undefined;

  constructor(owner: BodyIdleWatch, sweep: number) {
    this.#owner = owner;
    this.lastProgress = sweep;
  }

  get idle(): Promise<never> {
    return this.#stalled.promise;
  }

  progressed(): void {
    this.lastProgress = this.#owner.sweeps;
  }

  stall(error: Error): void {
    this.#stalled.reject(error);
  }

  [Symbol.dispose](): void {
    this.link?.[Symbol.dispose]();
  }
}

/**
 * The request bodies being read, each cut once no byte of it arrived for `idleMs`: never
 * earlier, and at most a quarter of `idleMs` later. The sweep runs only while bodies are watched.
 */
export class BodyIdleWatch {
  readonly idleMs: number;
  readonly #error: () => Error;
  readonly #startInterval: (callback: () => void, ms: number) => () => void;
  readonly #watched = new LinkedList<Entry>();
  #sweeps = 0;
  #stopSweeps: (() => void) | undefined;

  constructor(idleMs: number, options: BodyIdleWatchOptions) {
    if (!(idleMs > 0)) throw new RangeError(`Cannot watch bodies: idle time ${idleMs} ms`);
    this.idleMs = idleMs;
    this.#error = options.error;
    this.#startInterval = options.startInterval ?? runtimeInterval;
  }

  /** How many sweeps have run; what a body's progress is measured in. */
  get sweeps(): number {
    return this.#sweeps;
  }

  /** How many bodies are watched. */
  get watched(): number {
    return this.#watched.size;
  }

  /** Watches one body from now until the result is disposed of. */
  watch(): WatchedBody {
    const entry = new Entry(this, this.#sweeps);
    // A sweep that starts with this body would count its first period in full.
    if (this.#stopSweeps === undefined) {
      this.#stopSweeps = this.#startInterval(
        () => this.#sweep(),
        this.idleMs / SWEEPS_PER_IDLE,
      );
    }
    entry.link = this.#watched.add(entry);
    return entry;
  }

  /** Stops the sweeps; bodies still watched are no longer cut. */
  close(): void {
    this.#stopSweeps?.();
    this.#stopSweeps = undefined;
    for (const entry of this.#watched) entry[Symbol.dispose]();
  }

  #sweep(): void {
    this.#sweeps++;
    // Quiet for a whole sweep: stop until the next body is watched.
    if (this.#watched.size === 0) {
      this.close();
      return;
    }
    for (const entry of this.#watched) {
      // More than SWEEPS_PER_IDLE sweeps since the last progress: at least idleMs went by.
      if (this.#sweeps - entry.lastProgress > SWEEPS_PER_IDLE) {
        entry[Symbol.dispose]();
        entry.stall(this.#error());
      }
    }
  }
}

function runtimeInterval(callback: () => void, ms: number): () => void {
  const id = setInterval(callback, ms);
  return () => clearInterval(id);
}

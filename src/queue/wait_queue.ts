/**
 * A bounded line of requests waiting for an instance to have a free slot (every candidate is at
 * its `max-concurrency`). A slot freed wakes one waiter, which then tries selection again.
 *
 * Who is woken: strictly by priority class (every `high` waiter before any `normal` one, every
 * `normal` before any `low`), and within a class by start-time fair queuing across lanes (client
 * keys). Each waiter gets a virtual start tag: the class's virtual time (the tag last served)
 * when its lane was idle, else one past its lane's last tag (and never below the virtual time);
 * the smallest tag goes first, ties in order of arrival. A key that sends now and then thus joins
 * the current round, and a key that floods the line takes one turn in each round like any other:
 * a request of a quiet key waits behind at most one request of each busy lane, not behind the
 * whole flood. A lane whose key is at its own `max-concurrency` is passed over until one of the
 * key's requests ends (its tickets say when they are ready).
 *
 * The line holds at most `size` waiters. When it is full, an arrival of a higher class pushes
 * out the newest waiter of the longest lane of the lowest class; an arrival of the same class
 * pushes out the newest waiter of the longest lane when that lane holds at least two more than
 * the arrival's; otherwise the arrival is refused. So a flood cannot keep others out either.
 * @module
 */
import { classRank, PRIORITY_CLASSES, type QueuePlace } from "./priority.ts";
import { DrainRate } from "./drain_rate.ts";

/** How a wait ended. */
export type WaitOutcome = "woken" | "full" | "timeout" | "aborted";

/** Starts a timer; returns a function that cancels it. Injected for tests. */
export type Timer = (callback: () => void, ms: number) => () => void;

const realTimer: Timer = (callback, ms) => {
  const id = setTimeout(callback, ms);
  return () => clearTimeout(id);
};

/** Options for {@linkcode WaitQueue}. */
export interface WaitQueueOptions {
  /** Starts timers. @default setTimeout */
  readonly timer?: Timer;
  /** Clock for the drain rate, in ms. @default Date.now */
  readonly now?: () => number;
}

/** Options for {@linkcode WaitQueue.wait}. */
export interface WaitOptions {
  /** ms to wait at most. */
  readonly timeout: number;
  /** Fires when the client leaves. */
  readonly signal: AbortSignal;
  /**
   * Told when the request joins the line (again, after a wake-up that found no free slot): its
   * position (1 is next) and a reading of its position now (undefined once it left).
   */
  readonly entered?: ((position: number, current: () => number | undefined) => void) | undefined;
}

/** A waiter's turn. */
interface Turn {
  /** Its virtual start tag. */
  readonly tag: number;
  /** Arrival order, breaking ties between equal tags. */
  readonly seq: number;
}

interface Waiter extends Turn {
  readonly lane: Lane;
  /** Whether it may take a freed slot now; a waiter that may not is passed over. */
  readonly ready: (() => boolean) | undefined;
  readonly end: (outcome: WaitOutcome) => void;
}

/** One key's waiters in one class, in tag order. */
interface Lane {
  readonly name: string;
  readonly level: Level;
  readonly waiters: Waiter[];
  /** The tag of its newest waiter. */
  lastTag: number;
}

/** One priority class. */
interface Level {
  /** 0 for the class served first. */
  readonly rank: number;
  readonly lanes: Map<string, Lane>;
  /** The tag of the waiter last woken. */
  virtualTime: number;
  count: number;
}

/** One model's line of waiting requests. */
export class WaitQueue {
  readonly #levels: Level[] = PRIORITY_CLASSES.map((_, rank) => ({
    rank,
    lanes: new Map(),
    virtualTime: 0,
    count: 0,
  }));
  #length = 0;
  #seq = 0;
  #size: number;
  readonly #timer: Timer;
  readonly #now: () => number;
  /** Tags of requests woken that may come back: they keep their turn. */
  readonly #turns = new WeakMap<QueueTicket, Turn>();
  readonly #drain = new DrainRate();

  constructor(size: number, options: WaitQueueOptions = {}) {
    this.#size = size;
    this.#timer = options.timer ?? realTimer;
    this.#now = options.now ?? Date.now;
  }

  /** Requests waiting now. */
  get length(): number {
    return this.#length;
  }

  /** The most requests that may wait. */
  get size(): number {
    return this.#size;
  }

  set size(size: number) {
    this.#size = size;
  }

  /** Requests woken per second lately; undefined before any was. */
  drainRate(): number | undefined {
    return this.#drain.perSecond(this.#now());
  }

  /** ms until the requests waiting now have left at the measured drain rate; undefined unmeasured. */
  drainTime(): number | undefined {
    const rate = this.drainRate();
    return rate === undefined ? undefined : (this.#length / rate) * 1000;
  }

  /**
   * Waits for a free slot: `woken` when one is freed for it, `timeout` after `timeout` ms,
   * `aborted` when `signal` fires (the client left), or `full` when there is no room for it,
   * at once or when a more deserving arrival pushes it out. A ticket woken before that waits
   * again keeps its turn.
   */
  wait(ticket: QueueTicket, options: WaitOptions): Promise<WaitOutcome> {
    const { signal } = options;
    if (signal.aborted) return Promise.resolve("aborted");
    const level = this.#levels[classRank(ticket.place.priority)]!;
    const laneName = ticket.place.lane;
    const kept = this.#turns.get(ticket);
    if (kept === undefined && this.#length >= this.#size && !this.#makeRoom(ticket.place)) {
      return Promise.resolve("full");
    }
    let lane = level.lanes.get(laneName);
    // A lane's next request starts where its previous one ends, or now when it was idle.
    const start = lane === undefined ? level.virtualTime : lane.lastTag + 1;
    if (lane === undefined) {
      lane = { name: laneName, level, waiters: [], lastTag: 0 };
      level.lanes.set(laneName, lane);
    }
    const turn = kept ?? { tag: Math.max(level.virtualTime, start), seq: this.#seq++ };
    lane.lastTag = Math.max(lane.lastTag, turn.tag);
    return new Promise((resolve) => {
      const end = (outcome: WaitOutcome) => {
        if (!this.#remove(waiter)) return;
        cancelTimer();
        signal.removeEventListener("abort", onAbort);
        if (outcome === "woken") this.#turns.set(ticket, turn);
        resolve(outcome);
      };
      const waiter: Waiter = { ...turn, lane, ready: ticket.ready, end };
      insertInOrder(lane.waiters, waiter);
      level.count++;
      this.#length++;
      const onAbort = () => end("aborted");
      const cancelTimer = this.#timer(() => end("timeout"), options.timeout);
      signal.addEventListener("abort", onAbort, { once: true });
      if (options.entered) {
        options.entered(this.#position(waiter) ?? 1, () => this.#position(waiter));
      }
    });
  }

  /**
   * A slot was freed: the first waiter in class and fair order that is ready (not held back by
   * its key's concurrency cap) tries again.
   */
  wake(): void {
    for (const level of this.#levels) {
      if (level.count === 0) continue;
      let first: Waiter | undefined;
      for (const lane of level.lanes.values()) {
        const head = lane.waiters[0];
        if (head && (first === undefined || before(head, first)) && (head.ready?.() ?? true)) {
          first = head;
        }
      }
      // Every waiter of the class is held back by its key's cap: the next class may go.
      if (first === undefined) continue;
      level.virtualTime = Math.max(level.virtualTime, first.tag);
      this.#drain.left(this.#now());
      first.end("woken");
      return;
    }
  }

  /** Pushes out a waiter to make room for an arrival at `place`; false when none should go. */
  #makeRoom(place: QueuePlace): boolean {
    const rank = classRank(place.priority);
    for (let lowest = this.#levels.length - 1; lowest >= rank; lowest--) {
      const level = this.#levels[lowest]!;
      if (level.count === 0) continue;
      let longest: Lane | undefined;
      for (const lane of level.lanes.values()) {
        if (longest === undefined || lane.waiters.length > longest.waiters.length) longest = lane;
      }
      if (longest === undefined) return false;
      if (lowest === rank) {
        const own = level.lanes.get(place.lane)?.waiters.length ?? 0;
        if (longest.waiters.length < own + 2) return false;
      }
      longest.waiters.at(-1)!.end("full");
      return true;
    }
    return false;
  }

  /** Takes a waiter out of its lane; false when it already left. */
  #remove(waiter: Waiter): boolean {
    const { lane } = waiter;
    const index = lane.waiters.indexOf(waiter);
    if (index < 0) return false;
    lane.waiters.splice(index, 1);
    lane.level.count--;
    this.#length--;
    if (lane.waiters.length === 0) lane.level.lanes.delete(lane.name);
    return true;
  }

  /** 1 for the next to be woken; undefined once it left. */
  #position(waiter: Waiter): number | undefined {
    const { lane } = waiter;
    if (!lane.waiters.includes(waiter)) return undefined;
    let ahead = 0;
    for (let higher = 0; higher < lane.level.rank; higher++) ahead += this.#levels[higher]!.count;
    for (const other of lane.level.lanes.values()) ahead += countBefore(other.waiters, waiter);
    return ahead + 1;
  }
}

/** A request's turn in a line: the same ticket waiting again after a wake-up keeps its place. */
export class QueueTicket {
  /**
   * `ready`: whether the request may take a freed slot now (its key is below its concurrency
   * cap); while it says no, the request's lane is passed over. Every waiter of a lane (one key)
   * answers alike. @default always ready
   */
  constructor(readonly place: QueuePlace, readonly ready?: () => boolean) {}
}

/** Whether `a` goes before `b`: the smaller tag, or of equal tags the older. */
function before(a: Turn, b: Turn): boolean {
  return a.tag < b.tag || (a.tag === b.tag && a.seq < b.seq);
}

/** Inserts `waiter` into `waiters`, kept in order of {@linkcode before}. */
function insertInOrder(waiters: Waiter[], waiter: Waiter): void {
  let index = waiters.length;
  while (index > 0 && before(waiter, waiters[index - 1]!)) index--;
  waiters.splice(index, 0, waiter);
}

/** How many of `waiters` (in order) go before `waiter`: a binary search. */
function countBefore(waiters: readonly Waiter[], waiter: Waiter): number {
  let low = 0;
  let high = waiters.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (before(waiters[middle]!, waiter)) low = middle + 1;
    else high = middle;
  }
  return low;
}

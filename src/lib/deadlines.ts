/**
 * Coarse deadlines for the hot path, where every request sets a few (connect, first byte, idle)
 * and nearly all are cancelled long before they pass. A runtime timer per deadline costs more
 * than the rest of a small request's bookkeeping; here one timer serves them all.
 *
 * Deadlines are kept in slots `resolution` ms wide. The one timer is armed for the earliest
 * slot that holds a deadline, and only while some deadline is pending. A deadline fires in the
 * first pass at or after its time: never early, late by at most about `resolution` ms.
 * @module
 */

/** A scheduled callback that can still be called off. */
export interface Deadline {
  /** Calls the deadline off; nothing happens if it already fired. */
  cancel(): void;
}

/** Schedules `callback` after `ms` milliseconds; the shape of {@linkcode Deadlines.schedule}. */
export type Schedule = (callback: () => void, ms: number) => Deadline;

/** Options for {@linkcode Deadlines}; tests pass a fake clock and timer. */
export interface DeadlinesOptions {
  /** Width of a slot in ms. @default 10 */
  readonly resolution?: number;
  /** Monotonic clock in ms. @default performance.now */
  readonly now?: () => number;
  /** Starts the one runtime timer and returns what stops it. @default setTimeout */
  readonly startTimer?: (callback: () => void, ms: number) => () => void;
}

class Entry implements Deadline, Disposable {
  readonly #owner: Deadlines;
  readonly slot: number;
  readonly callback: () => void;

  constructor(owner: Deadlines, slot: number, callback: () => void) {
    this.#owner = owner;
    this.slot = slot;
    this.callback = callback;
  }

  cancel(): void {
    this.#owner.cancel(this);
  }

  /** Cancels, so that a lease or `using` calls the deadline off whatever happens. */
  [Symbol.dispose](): void {
    this.cancel();
  }
}

/** Many cancellable deadlines on one runtime timer. */
export class Deadlines {
  readonly #resolution: number;
  readonly #now: () => number;
  readonly #startTimer: (callback: () => void, ms: number) => () => void;
  /** Pending deadlines by slot number. */
  readonly #slots = new Map<number, Set<Entry>>();
  /** The slot numbers in `#slots`, as a binary min-heap. */
  readonly #order: number[] = [];
  #pending = 0;
  /** Stops the armed timer, while one is. */
  #stopTimer: (() => void) | undefined;
  #armedFor = Infinity;
  readonly #fire = () => this.#run();

  constructor(options: DeadlinesOptions = {}) {
    this.#resolution = options.resolution ?? 10;
    this.#now = options.now ?? (() => performance.now());
    this.#startTimer = options.startTimer ?? runtimeTimer;
  }

  /** How many deadlines are waiting. */
  get pending(): number {
    return this.#pending;
  }

  /** Calls `callback` once `ms` milliseconds have passed, unless cancelled first. */
  schedule(callback: () => void, ms: number): Deadline & Disposable {
    const slot = Math.ceil((this.#now() + Math.max(0, ms)) / this.#resolution);
    let entries = this.#slots.get(slot);
    if (entries === undefined) {
      entries = new Set();
      this.#slots.set(slot, entries);
      heapPush(this.#order, slot);
    }
    const entry = new Entry(this, slot, callback);
    entries.add(entry);
    this.#pending++;
    if (slot < this.#armedFor) this.#arm(slot);
    return entry;
  }

  /** Calls a deadline off; used by {@linkcode Deadline.cancel}. */
  cancel(entry: Deadline): void {
    if (!(entry instanceof Entry)) return;
    if (this.#slots.get(entry.slot)?.delete(entry) !== true) return;
    if (--this.#pending === 0) this.#clear();
  }

  #arm(slot: number): void {
    this.#stopTimer?.();
    this.#armedFor = slot;
    this.#stopTimer = this.#startTimer(
      this.#fire,
      Math.max(0, slot * this.#resolution - this.#now()),
    );
  }

  /** No deadline is pending: stop the timer and forget the empty slots. */
  #clear(): void {
    this.#stopTimer?.();
    this.#stopTimer = undefined;
    this.#armedFor = Infinity;
    this.#slots.clear();
    this.#order.length = 0;
  }

  #run(): void {
    this.#stopTimer = undefined;
    this.#armedFor = Infinity;
    const due = Math.floor(this.#now() / this.#resolution);
    const errors: unknown[] = [];
    while (this.#order.length > 0 && this.#order[0]! <= due) {
      const slot = heapPop(this.#order)!;
      const entries = this.#slots.get(slot);
      this.#slots.delete(slot);
      if (entries === undefined) continue;
      for (const entry of entries) {
        this.#pending--;
        try {
          entry.callback();
        } catch (error) {
          errors.push(error);
        }
      }
    }
    // Slots whose deadlines were all cancelled need no timer of their own.
    while (this.#order.length > 0 && (this.#slots.get(this.#order[0]!)?.size ?? 0) === 0) {
      this.#slots.delete(heapPop(this.#order)!);
    }
    const next = this.#order[0];
    if (next !== undefined && next < this.#armedFor) this.#arm(next);
    for (const error of errors) reportError(error);
  }
}

function runtimeTimer(callback: () => void, ms: number): () => void {
  const id = setTimeout(callback, ms);
  return () => clearTimeout(id);
}

function heapPush(heap: number[], value: number): void {
  let index = heap.push(value) - 1;
  while (index > 0) {
    const parent = (index - 1) >> 1;
    if (heap[parent]! <= value) break;
    heap[index] = heap[parent]!;
    index = parent;
  }
  heap[index] = value;
}

function heapPop(heap: number[]): number | undefined {
  const top = heap[0];
  const last = heap.pop();
  if (heap.length === 0 || last === undefined) return top;
  let index = 0;
  for (;;) {
    const left = 2 * index + 1;
    if (left >= heap.length) break;
    const right = left + 1;
    const child = right < heap.length && heap[right]! < heap[left]! ? right : left;
    if (heap[child]! >= last) break;
    heap[index] = heap[child]!;
    index = child;
  }
  heap[index] = last;
  return top;
}

/** The deadlines the gateway's requests share. */
const requestDeadlines = new Deadlines();

/** Schedules on {@linkcode requestDeadlines}: the default wherever a `Schedule` is taken. */
export const scheduleDeadline = (callback: () => void, ms: number): Deadline & Disposable =>
  requestDeadlines.schedule(callback, ms);

/**
 * New requests take turns with the work already in flight. The event loop serves whatever is
 * ready in the order it came, so a burst of new requests, each with its share of work to begin
 * (parse, route, choose a backend, connect), can fill turn after turn of the loop and hold back
 * the chunks of the streams already open, by hundreds of milliseconds when thousands of streams
 * open within a second on one core.
 *
 * Within one turn of the loop, new requests begin for as long as less than `budgetMs` has passed
 * since the turn's first one began; those that come later wait, in the order they came, and begin
 * in the next turns, one at a time. A busy turn ends when a timer of 0 ms fires, which is after
 * the loop has done what else was ready: the chunks of open streams get their share. A timer set from
 * a timer's callback, as each turn sets the next while requests wait, fires no sooner than 4 ms
 * once five follow each other (the HTML timer rules, which Deno keeps): while a burst lasts, new
 * requests begin for at most about half of the time. The work a request brings does not end with
 * its first turn (its body, its backend's answer come later), so a turn that comes late, the loop
 * still busy with what the last ones let in, lets new requests begin for less: `budgetMs` scaled
 * down by how much later than `turnMs` it came.
 *
 * A request that comes alone, or while the loop is idle, begins at once; nothing waits unless the
 * turn is already busy with others. A client that leaves while its request waits is noticed once
 * the request begins, as any other.
 *
 * A request alone sets no timer: timers cost more than the rest of taking a turn, and most
 * requests to a model server come one by one. Its turn is marked by a timer only once another
 * request comes within the budget, or its own start outlasted the budget. A request that comes
 * after the budget of an unmarked turn begins a turn of its own: the loop may still be in the
 * same turn, busy with other work since, but that work was no request's start.
 * @module
 */

/** Calls `callback` in a later turn of the event loop, after what else is ready. */
export type NextTurn = (callback: () => void) => void;

/** Options for {@linkcode TurnTaking}; tests pass a fake clock and turns. */
export interface TurnTakingOptions {
  /**
   * How long, in ms since a turn's first request began, later ones in the same turn may still
   * begin at once. More than a timer of 0 ms takes to fire on an idle loop, so that requests of
   * a loop that keeps up never wait.
   * @default 2
   */
  readonly budgetMs?: number;
  /**
   * How long, in ms, a turn of a loop that keeps up takes at most. A turn that began `t` ms after
   * the one before, `t` more than this, lets new requests begin for `budgetMs × turnMs / t`.
   * @default 5
   */
  readonly turnMs?: number;
  /** The time, in ms. @default performance.now */
  readonly now?: () => number;
  /** @default a timer of 0 ms */
  readonly nextTurn?: NextTurn;
  /** Called for each request that has to wait for a turn. */
  readonly onWait?: (() => void) | undefined;
}

const timerTurn: NextTurn = (callback) => setTimeout(callback, 0);

/** Where new requests wait for their turn. One per server. */
export class TurnTaking {
  readonly #budgetMs: number;
  readonly #turnMs: number;
  readonly #now: () => number;
  readonly #nextTurn: NextTurn;
  /**
   * When the current turn's first request began: `-Infinity` once a marked turn has ended, so
   * that the next request begins a turn of its own.
   */
  #turnStart = -Infinity;
  /** Whether a timer will end the current turn. */
  #marked = false;
  /** How long new requests may begin in the current turn, in ms: `budgetMs` unless marked. */
  #turnBudget: number;
  /** Those waiting, in the order they came: each one's start. */
  readonly #waiting: (() => void)[] = [];
  readonly #onWait: (() => void) | undefined;

  constructor(options: TurnTakingOptions = {}) {
    this.#budgetMs = this.#turnBudget = options.budgetMs ?? 2;
    this.#turnMs = options.turnMs ?? 5;
    this.#now = options.now ?? (() => performance.now());
    this.#nextTurn = options.nextTurn ?? timerTurn;
    this.#onWait = options.onWait;
  }

  /** Requests waiting for a turn now. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /**
   * Begins one request: runs `start` now and returns what it returns, or, when the request has
   * to wait, runs it once its turn comes and returns a promise of that. `start` is given the
   * time the request came when it waited, undefined when it began at once.
   */
  begin<T>(start: (arrived: number | undefined) => T | Promise<T>): T | Promise<T> {
    const now = this.#now();
    if (!this.#marked && now - this.#turnStart >= this.#turnBudget) {
      this.#turnStart = now;
      try {
        return start(undefined);
      } finally {
        // A start that outlasted the budget: those after it in this turn wait.
        if (this.#now() - now >= this.#turnBudget) this.#mark();
      }
    }
    this.#mark();
    if (this.#waiting.length === 0 && now - this.#turnStart < this.#turnBudget) {
      return start(undefined);
    }
    this.#onWait?.();
    return new Promise<T>((resolve, reject) => {
      this.#waiting.push(() => {
        try {
          resolve(start(now));
        } catch (error) {
          reject(error);
        }
      });
    });
  }

  /** Sets the timer that ends the current turn, unless one is set. */
  #mark(): void {
    if (this.#marked) return;
    this.#marked = true;
    this.#nextTurn(this.#newTurn);
  }

  readonly #newTurn = (): void => {
    if (this.#waiting.length === 0) {
      this.#turnStart = -Infinity;
      this.#turnBudget = this.#budgetMs;
      this.#marked = false;
      return;
    }
    const now = this.#now();
    const sinceLast = now - this.#turnStart;
    this.#turnBudget = sinceLast > this.#turnMs
      ? this.#budgetMs * this.#turnMs / sinceLast
      : this.#budgetMs;
    this.#turnStart = now;
    this.#nextTurn(this.#newTurn);
    this.#letOneBegin();
  };

  /**
   * Lets the first in line begin, and the next one after that one's start has run (a microtask
   * later), while the turn's budget lasts.
   */
  readonly #letOneBegin = (): void => {
    const begin = this.#waiting.shift();
    if (begin === undefined) return;
    begin();
    if (this.#waiting.length > 0) queueMicrotask(this.#goOn);
  };

  readonly #goOn = (): void => {
    if (this.#now() - this.#turnStart < this.#turnBudget) this.#letOneBegin();
  };
}

/**
 * The attempts whose backend requests are still open, so that a gateway whose shutdown grace
 * period has ended can end each one on purpose (a stream with an SSE error event that says so,
 * a request still waiting for its answer with a 503) rather than leave every connection to be
 * cut when the process exits.
 * @module
 */

/** Why an attempt was ended: the gateway is stopping and its grace period is over. */
export class GatewayStopping extends Error {
  constructor() {
    super("The gateway is stopping");
    this.name = "GatewayStopping";
  }
}

/**
 * The abort controllers of the attempts in flight, in a list linked through its entries: an
 * attempt joins and leaves it without a hash lookup, on the path of every request.
 */
export class AttemptsInFlight {
  /** The most recent attempt, linked to the earlier ones. */
  #head: TrackedAttempt | undefined;
  #size = 0;

  /** How many attempts are in flight. */
  get size(): number {
    return this.#size;
  }

  /** Tracks an attempt's controller until the returned disposable is disposed. */
  track(controller: AbortController): Disposable {
    const entry = new TrackedAttempt(this, controller);
    entry.next = this.#head;
    if (this.#head) this.#head.previous = entry;
    this.#head = entry;
    this.#size++;
    return entry;
  }

  /** Takes `entry` out of the list; used by {@linkcode TrackedAttempt}'s dispose. */
  untrack(entry: TrackedAttempt): void {
    if (entry.previous) entry.previous.next = entry.next;
    else this.#head = entry.next;
    if (entry.next) entry.next.previous = entry.previous;
    entry.previous = entry.next = undefined;
    this.#size--;
  }

  /** Aborts every attempt in flight with {@linkcode GatewayStopping}; how many there were. */
  stopAll(): number {
    const reason = new GatewayStopping();
    let stopped = 0;
    for (let entry = this.#head; entry !== undefined; entry = this.#head) {
      entry[Symbol.dispose]();
      entry.controller.abort(reason);
      stopped++;
    }
    return stopped;
  }
}

/** One attempt in the list of {@linkcode AttemptsInFlight}; disposing of it takes it out, once. */
class TrackedAttempt implements Disposable {
  readonly #owner: AttemptsInFlight;
  readonly controller: AbortController;
  previous: TrackedAttempt | undefined;
  next: TrackedAttempt | undefined;
  #tracked = true;

  constructor(owner: AttemptsInFlight, controller: AbortController) {
    this.#owner = owner;
    this.controller = controller;
  }

  [Symbol.dispose](): void {
    if (!this.#tracked) return;
    this.#tracked = false;
    this.#owner.untrack(this);
  }
}

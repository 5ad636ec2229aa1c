/**
 * A client key's (and its team's) `max-concurrency`: how many of its requests may be in flight
 * at once across the gateway. A request over it is not refused: it waits in the model's queue,
 * in its own lane, like a request that finds every instance at its cap; its lane is passed over
 * while the key is at its cap, and is woken when one of the key's requests ends.
 *
 * The counts live in {@linkcode ConcurrencyCap}s that outlast a rebuild of the keys, so a key's
 * requests in flight still count after a reload; a request takes its place with its instance
 * lease and gives it back when the lease settles.
 * @module
 */

/** Something requests wait in, whose next waiter may try again: a model's queue. */
export interface Wakeable {
  wake(): void;
}

/** One key's or one team's cap, the requests it has in flight, and where its others wait. */
export class ConcurrencyCap {
  /** The most requests in flight at once; changed in place when the config is reloaded. */
  limit: number;
  #active = 0;
  /** The queues its requests wait in, with how many wait in each. */
  readonly #waitingIn = new Map<Wakeable, number>();

  constructor(limit: number) {
    this.limit = limit;
  }

  /** Its requests in flight now. */
  get active(): number {
    return this.#active;
  }

  /** Whether one more of its requests may start. */
  get hasRoom(): boolean {
    return this.#active < this.limit;
  }

  /** Counts a request in flight; {@linkcode ConcurrencyCap.release} gives its place back. */
  claim(): void {
    this.#active++;
  }

  /** Gives back a request's place, waking a queue its requests wait in when room comes back. */
  release(): void {
    this.#active--;
    if (this.#active >= this.limit) return;
    for (const queue of this.#waitingIn.keys()) queue.wake();
  }

  /** Notes that one of its requests waits in `queue`, until the returned value is disposed of. */
  waitIn(queue: Wakeable): Disposable {
    this.#waitingIn.set(queue, (this.#waitingIn.get(queue) ?? 0) + 1);
    let left = false;
    return {
      [Symbol.dispose]: () => {
        if (left) return;
        left = true;
        const count = this.#waitingIn.get(queue)! - 1;
        if (count === 0) this.#waitingIn.delete(queue);
        else this.#waitingIn.set(queue, count);
      },
    };
  }
}

/** The caps a client's requests count under: its key's, its team's, or both. */
export class ClientConcurrency {
  readonly #caps: readonly ConcurrencyCap[];

  constructor(caps: readonly ConcurrencyCap[]) {
    this.#caps = caps;
  }

  /** Whether one more request of the client may start under every cap. */
  hasRoom(): boolean {
    for (const cap of this.#caps) if (!cap.hasRoom) return false;
    return true;
  }

  /** Counts a request in flight under every cap until the returned value is disposed of, once. */
  claim(): Disposable {
    const caps = this.#caps;
    for (const cap of caps) cap.claim();
    let released = false;
    return {
      [Symbol.dispose]() {
        if (released) return;
        released = true;
        for (const cap of caps) cap.release();
      },
    };
  }

  /** Notes that a request of the client waits in `queue`, until the returned value is disposed of. */
  waitIn(queue: Wakeable): Disposable {
    const entries = this.#caps.map((cap) => cap.waitIn(queue));
    return {
      [Symbol.dispose]() {
        for (const entry of entries) entry[Symbol.dispose]();
      },
    };
  }
}

/**
 * A bounded first-in, first-out line of requests waiting for an instance to have a free slot
 * (every candidate is at its `max-concurrency`). A slot freed wakes the request at the head,
 * which then tries selection again.
 * @module
 */

/** How a wait ended. */
export type WaitOutcome = "woken" | "full" | "timeout" | "aborted";

interface Waiter {
  readonly resolve: (outcome: WaitOutcome) => void;
}

/** Starts a timer; returns a function that cancels it. Injected for tests. */
export type Timer = (callback: () => void, ms: number) => () => void;

const realTimer: Timer = (callback, ms) => {
  const id = setTimeout(callback, ms);
  return () => clearTimeout(id);
};

/** One model's line of waiting requests. */
export class WaitQueue {
  readonly #waiters: Waiter[] = [];
  #size: number;
  readonly #timer: Timer;

  constructor(size: number, timer: Timer = realTimer) {
    this.#size = size;
    this.#timer = timer;
  }

  /** Requests waiting now. */
  get length(): number {
    return this.#waiters.length;
  }

  /** The most requests that may wait. */
  get size(): number {
    return this.#size;
  }

  set size(size: number) {
    this.#size = size;
  }

  /**
   * Waits for a free slot: `woken` when one is freed, `timeout` after `timeout` ms, `aborted`
   * when `signal` fires (the client left), or `full` at once when the line is full.
   */
  wait(timeout: number, signal: AbortSignal): Promise<WaitOutcome> {
    if (this.#waiters.length >= this.#size) return Promise.resolve("full");
    if (signal.aborted) return Promise.resolve("aborted");
    return new Promise((resolve) => {
      const end = (outcome: WaitOutcome) => {
        const index = this.#waiters.indexOf(waiter);
        if (index >= 0) this.#waiters.splice(index, 1);
        cancelTimer();
        signal.removeEventListener("abort", onAbort);
        resolve(outcome);
      };
      const waiter: Waiter = { resolve: end };
      const onAbort = () => end("aborted");
      const cancelTimer = this.#timer(() => end("timeout"), timeout);
      signal.addEventListener("abort", onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  /** A slot was freed: the request at the head tries again. */
  wake(): void {
    this.#waiters[0]?.resolve("woken");
  }
}

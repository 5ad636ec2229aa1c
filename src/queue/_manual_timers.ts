/**
 * Timers fired by hand, for the queue's unit tests.
 * @module
 */
import type { Timer } from "./wait_queue.ts";

/** A {@linkcode Timer} whose callbacks run only when the test fires them. */
export function manualTimers() {
  const pending = new Set<() => void>();
  const timer: Timer = (callback) => {
    pending.add(callback);
    return () => pending.delete(callback);
  };
  return {
    timer,
    /** Runs every callback pending now. */
    fireAll() {
      for (const callback of [...pending]) {
        pending.delete(callback);
        callback();
      }
    },
    get pending() {
      return pending.size;
    },
  };
}

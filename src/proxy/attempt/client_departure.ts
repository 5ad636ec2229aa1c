/**
 * Noticing a client that leaves before its answer has begun, so that its upstream request is
 * aborted. The runtime watches a connection for a request only once its `signal` is read, and
 * that costs an operation of its own: about a fifth of all the work for a small request. Most
 * answers take a few milliseconds, so the watch starts only once a request has lasted
 * {@linkcode WATCH_AFTER} ms; a client gone by then is noticed at that moment. An answer passed on
 * as it arrives (a stream, audio, a long body) stops the watch once the client's response holds
 * its body: the runtime cancels that body when the client leaves, which aborts the upstream
 * request.
 * @module
 */
import { type Schedule, scheduleDeadline } from "../../lib/deadlines.ts";

/** How long a request runs before its client's connection is watched, in ms. */
export const WATCH_AFTER = 20;

/** A watch on a client's connection, while one upstream request is under way. */
export interface DepartureWatch extends Disposable {
  /** Stops watching; `onGone` will not be called. Disposing of the watch stops it too. */
  stop(): void;
}

/**
 * Calls `onGone` once the client of `request` disconnects, at most once, until stopped. A client
 * that left before the watch began is noticed when it begins.
 */
export function watchDeparture(
  request: Request,
  onGone: () => void,
  options: { readonly after?: number; readonly schedule?: Schedule } = {},
): DepartureWatch {
  let signal: AbortSignal | undefined;
  const start = options.schedule ?? scheduleDeadline;
  const deadline = start(() => {
    signal = request.signal;
    if (signal.aborted) onGone();
    else signal.addEventListener("abort", onGone, { once: true });
  }, options.after ?? WATCH_AFTER);
  const stop = () => {
    deadline.cancel();
    signal?.removeEventListener("abort", onGone);
  };
  return { stop, [Symbol.dispose]: stop };
}

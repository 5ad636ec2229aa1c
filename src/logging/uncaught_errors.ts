/**
 * Errors nothing caught: a promise rejected with no handler, or an exception thrown in a
 * timer or event callback. The runtime would print their stack and exit; the gateway logs each
 * as one line instead and keeps serving, since a failed background task ends only that task.
 * @module
 */

/**
 * Sends uncaught errors and unhandled rejections on `target` to `logError`, and keeps them from
 * ending the process, until disposed of.
 */
export function logUncaughtErrors(
  logError: (message: string, error: unknown) => void,
  target: EventTarget = globalThis,
): Disposable {
  const onRejection = (event: Event) => {
    event.preventDefault();
    logError("Unhandled promise rejection", (event as PromiseRejectionEvent).reason);
  };
  const onError = (event: Event) => {
    event.preventDefault();
    logError("Uncaught error", (event as ErrorEvent).error);
  };
  target.addEventListener("unhandledrejection", onRejection);
  target.addEventListener("error", onError);
  return {
    [Symbol.dispose]() {
      target.removeEventListener("unhandledrejection", onRejection);
      target.removeEventListener("error", onError);
    },
  };
}

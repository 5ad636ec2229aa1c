import assert from "node:assert/strict";
import { logUncaughtErrors } from "./uncaught_errors.ts";

function recorder() {
  const logged: { message: string; error: unknown }[] = [];
  return { logged, logError: (message: string, error: unknown) => logged.push({ message, error }) };
}

Deno.test("an unhandled rejection is logged once and does not end the process", () => {
  const target = new EventTarget();
  const { logged, logError } = recorder();
  using _ = logUncaughtErrors(logError, target);
  const reason = new Error("nobody waited");
  const promise = Promise.reject(reason);
  promise.catch(() => {});
  const event = new PromiseRejectionEvent("unhandledrejection", {
    promise,
    reason,
    cancelable: true,
  });
  target.dispatchEvent(event);
  assert.ok(event.defaultPrevented);
  assert.deepEqual(logged, [{ message: "Unhandled promise rejection", error: reason }]);
});

Deno.test("an uncaught error is logged once and does not end the process", () => {
  const target = new EventTarget();
  const { logged, logError } = recorder();
  using _ = logUncaughtErrors(logError, target);
  const error = new TypeError("thrown in a timer");
  const event = new ErrorEvent("error", { error, cancelable: true });
  target.dispatchEvent(event);
  assert.ok(event.defaultPrevented);
  assert.deepEqual(logged, [{ message: "Uncaught error", error }]);
});

Deno.test("once disposed of, errors are left to the runtime", () => {
  const target = new EventTarget();
  const { logged, logError } = recorder();
  logUncaughtErrors(logError, target)[Symbol.dispose]();
  const event = new ErrorEvent("error", { error: new Error("x"), cancelable: true });
  target.dispatchEvent(event);
  assert.equal(event.defaultPrevented, false);
  assert.deepEqual(logged, []);
});

/**
 * The deadlines of an upstream request before its response headers arrive: the connect
 * timeout and the first-byte timeout, with one timer at a time.
 *
 * `fetch` does not say when its connection opened, so the connect timeout is checked by a
 * probe: if no answer came within `connect` ms, a TCP connection to the backend must open within
 * another `connect` ms or the request is aborted. A backend that is up but slow to generate
 * passes the probe and gets the rest of the first-byte timeout.
 * @module
 */
import { type Deadline, type Schedule, scheduleDeadline } from "./deadlines.ts";

/** Why the gateway aborted an upstream request before it answered. */
export class UpstreamTimeout extends Error {
  readonly phase: "connect" | "first-byte";
  readonly ms: number;

  constructor(phase: "connect" | "first-byte", ms: number) {
    super(
      phase === "connect"
        ? `did not accept a connection within ${ms} ms`
        : `sent no response within ${ms} ms`,
    );
    this.name = "UpstreamTimeout";
    this.phase = phase;
    this.ms = ms;
  }
}

/** Options for {@linkcode armResponseDeadline}. */
export interface ResponseDeadlineOptions {
  /** Connect timeout in ms; 0 disables it. */
  readonly connect: number;
  /** First-byte timeout in ms, counted from the request; 0 disables it. */
  readonly firstByte: number;
  /** Resolves true when a TCP connection to the backend opens within the given ms. */
  readonly probe: (timeout: number) => Promise<boolean>;
  /** Schedules a callback; tests pass a fake. @default the shared request deadlines */
  readonly schedule?: Schedule;
}

/**
 * Aborts `controller` with an {@linkcode UpstreamTimeout} when a deadline passes. Call the
 * returned function as soon as the response headers arrive (or the request failed).
 */
export function armResponseDeadline(
  controller: AbortController,
  options: ResponseDeadlineOptions,
): () => void {
  const { connect, firstByte } = options;
  const schedule = options.schedule ?? scheduleDeadline;
  let done = false;
  let timer: Deadline | undefined;
  const abortAfterFirstByte = (elapsed: number) => {
    if (firstByte > 0) {
      timer = schedule(
        () => controller.abort(new UpstreamTimeout("first-byte", firstByte)),
        Math.max(0, firstByte - elapsed),
      );
    }
  };
  if (connect > 0 && (firstByte === 0 || connect < firstByte)) {
    timer = schedule(async () => {
      timer = undefined;
      abortAfterFirstByte(connect);
      const reachable = await options.probe(connect);
      if (!reachable && !done) controller.abort(new UpstreamTimeout("connect", connect));
    }, connect);
  } else {
    abortAfterFirstByte(0);
  }
  return () => {
    done = true;
    timer?.cancel();
  };
}

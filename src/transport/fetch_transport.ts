/**
 * The runtime's `fetch` as a {@linkcode Transport}: TLS, proxies named in the environment, and
 * the runtime's own tracing. Redirects are passed on, never followed.
 *
 * `fetch` does not say when its connection opened, so its connect timeout is kept by a probe:
 * when no answer has come within the timeout, a separate TCP connection to the backend must open
 * within another as long, or the request fails with a `ConnectTimeout`.
 * @module
 */
import { type Schedule, scheduleDeadline } from "../lib/deadlines.ts";
import { causeChain } from "../lib/error_causes.ts";
import { ConnectTimeout, ProtocolError } from "./errors.ts";
import type { Transport, TransportTarget } from "./transport.ts";
import { UpstreamAnswer } from "./upstream_answer.ts";

/** Tells whether a TCP connection to a host opens within `timeout` ms. */
export type ReachabilityCheck = (
  target: { readonly hostname: string; readonly port: number },
  timeout: number,
) => Promise<boolean>;

/** Options for {@linkcode fetchTransport}. */
export interface FetchTransportOptions {
  /** The connect timeout's probe. */
  readonly reachable: ReachabilityCheck;
  /** @default the shared request deadlines */
  readonly schedule?: Schedule;
}

/** What the runtime's HTTP client says of an answer it could not parse. */
const PARSE_FAILURE =
  /invalid HTTP [a-z-]+ parsed|message head is too large|unexpected message|invalid chunk/i;

/** Sends through `fetch`. */
export function fetchTransport(options: FetchTransportOptions): Transport {
  const schedule = options.schedule ?? scheduleDeadline;
  return {
    async send(target: TransportTarget, request) {
      const { connectTimeout } = request;
      const timedOut = new AbortController();
      let answered = false;
      const probe = connectTimeout > 0
        ? schedule(async () => {
          const reachable = await options.reachable(target, connectTimeout);
          if (!reachable && !answered) timedOut.abort(new ConnectTimeout(connectTimeout));
        }, connectTimeout)
        : undefined;
      try {
        return UpstreamAnswer.fromResponse(
          await fetch(target.url, {
            method: request.method,
            headers: [...request.headers],
            body: request.body,
            signal: probe ? AbortSignal.any([request.signal, timedOut.signal]) : request.signal,
            redirect: "manual",
          }),
        );
      } catch (error) {
        if (request.signal.aborted) throw request.signal.reason;
        if (timedOut.signal.aborted) throw timedOut.signal.reason;
        const detail = causeChain(error);
        const parseFailure = PARSE_FAILURE.exec(detail);
        if (parseFailure) throw new ProtocolError(parseFailure[0]);
        throw error;
      } finally {
        answered = true;
        probe?.cancel();
      }
    },
    close: () => Promise.resolve(),
  };
}

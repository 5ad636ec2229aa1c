/**
 * Why an attempt failed before the first byte reached the client, and how a transport's error
 * or a broken answer reads as one.
 * @module
 */
import { GatewayError } from "../../errors.ts";
import { causeChain, knownCause } from "../../lib/error_causes.ts";
import type { RetrySettings } from "../../retry/settings.ts";
import {
  AddressRefused,
  ConnectTimeout,
  ProtocolError,
  ProxyRefused,
  TlsFailure,
} from "../../transport/errors.ts";

/** Why an attempt failed before the first byte reached the client. */
export type Failure =
  | {
    readonly kind: "response";
    /**
     * The backend's answer, read into memory (its instance already settled), kept to pass on
     * if no other instance does better.
     */
    readonly response: Response;
    /** A pattern-matched instance without the model: moving on is not a retry. */
    readonly notServed: boolean;
    /** The retry settings name this status. */
    readonly retryable: boolean;
  }
  | TransportFailure
  | { readonly kind: "client-gone" };

/** No answer the client could be given came back. */
export interface TransportFailure {
  readonly kind: "transport";
  readonly error: GatewayError;
  /** No connection could be made at all, or none in time. */
  readonly unreachable: boolean;
  readonly retryable: boolean;
  /**
   * The instance would fail the same way again — the address policy refused every address of
   * it, or its TLS handshake failed — and nothing was sent: the request moves on to an
   * instance not tried yet, without spending a retry on one that would fail again.
   */
  readonly permanent: boolean;
  /** The metric outcome of the backend call. */
  readonly outcome: "timeout" | "unreachable" | "bad_answer";
}

/** The attempt's first-byte timeout passed before the answer's head arrived. */
export class FirstByteTimeout extends Error {
  constructor(ms: number) {
    super(`sent no response within ${ms} ms`);
    this.name = "FirstByteTimeout";
  }
}

/** The gateway stopped waiting for the next piece of an answer. */
export class IdleTimeout extends Error {
  constructor() {
    super("backend went idle mid-response");
    this.name = "IdleTimeout";
  }
}

/** A request that got no answer: it timed out, could not connect, or the answer broke HTTP. */
export function sendFailure(reason: unknown, retry: RetrySettings): TransportFailure {
  if (reason instanceof ConnectTimeout || reason instanceof FirstByteTimeout) {
    const unreachable = reason instanceof ConnectTimeout;
    return {
      kind: "transport",
      error: new GatewayError(504, "upstream_timeout", `The backend ${reason.message}`),
      unreachable,
      retryable: unreachable || retry.statuses.has(504),
      permanent: false,
      outcome: "timeout",
    };
  }
  if (reason instanceof ProxyRefused && reason.timedOut) {
    // The proxy's own connect timeout, or its wait for the answer, passed: a timeout as the
    // gateway's own would be.
    return {
      kind: "transport",
      error: new GatewayError(
        504,
        "upstream_timeout",
        `The backend could not be reached in time (${reason.message})`,
      ),
      unreachable: true,
      retryable: true,
      permanent: false,
      outcome: "timeout",
    };
  }
  if (reason instanceof ProtocolError) return badAnswer(reason.message, retry);
  if (reason instanceof AddressRefused) {
    // The instance counts as unreachable, so its breaker and ejection keep it out of rotation
    // as they do a dead backend.
    return {
      kind: "transport",
      error: new GatewayError(
        502,
        "upstream_address_refused",
        `The backend's address is refused: ${reason.message}`,
      ),
      unreachable: true,
      retryable: false,
      permanent: true,
      outcome: "unreachable",
    };
  }
  if (reason instanceof TlsFailure) {
    // Counted as unreachable, as a refused address is: the instance stays out of rotation
    // until its certificate or its settings are fixed.
    return {
      kind: "transport",
      error: new GatewayError(502, "upstream_tls_error", reason.message),
      unreachable: true,
      retryable: false,
      permanent: true,
      outcome: "unreachable",
    };
  }
  const detail = causeChain(reason);
  const known = knownCause(detail);
  return {
    kind: "transport",
    error: new GatewayError(
      502,
      "upstream_unreachable",
      `The backend could not be reached${known ? ` (${known})` : ""}`,
      { cause: detail },
    ),
    unreachable: true,
    retryable: true,
    permanent: false,
    outcome: "unreachable",
  };
}

/**
 * An answer that cannot be passed on: it breaks HTTP, or a translation could not read it. A
 * gateway error the translation raised keeps its own status and code.
 */
export function badAnswer(reason: unknown, retry: RetrySettings): TransportFailure {
  const error = reason instanceof GatewayError ? reason : new GatewayError(
    502,
    "bad_upstream_response",
    typeof reason === "string" ? reason : `The backend's answer could not be read`,
    { cause: typeof reason === "string" ? undefined : causeChain(reason) },
  );
  return {
    kind: "transport",
    error,
    unreachable: false,
    retryable: error.status >= 500 && retry.statuses.has(error.status),
    permanent: false,
    outcome: "bad_answer",
  };
}

/** The backend broke off, or stopped sending, a successful answer before it was whole. */
export function brokenAnswer(reason: unknown, retry: RetrySettings): TransportFailure {
  const timedOut = reason instanceof IdleTimeout;
  const status = timedOut ? 504 : 502;
  return {
    kind: "transport",
    error: new GatewayError(
      status,
      timedOut ? "upstream_timeout" : "upstream_broken_answer",
      timedOut ? `The backend ${reason.message}` : "The backend broke off its answer midway",
      { cause: timedOut ? undefined : causeChain(reason) },
    ),
    unreachable: false,
    retryable: retry.statuses.has(status),
    permanent: false,
    outcome: timedOut ? "timeout" : "bad_answer",
  };
}

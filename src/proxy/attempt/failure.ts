/**
 * Why an attempt failed before the first byte reached the client, and how a transport's error
 * or a broken answer reads as one.
 * @module
 */
import { GatewayError } from "../../errors.ts";
import { causeChain, knownCause } from "../../lib/error_causes.ts";
import type { RetrySettings } from "../../retry/settings.ts";
import { GatewayStopping } from "./attempts_in_flight.ts";
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
  readonly outcome: "timeout" | "unreachable" | "bad_answer" | "stopped";
}

/** The attempt's first-byte timeout passed before the answer's head arrived. */
export class FirstByteTimeout extends Error {
  constructor(ms: number) {
    super(`sent no response within ${ms} ms`);
    this.name = "FirstByteTimeout";
  }
}

/** The attempt's first-token timeout passed before the first event of its stream arrived. */
export class FirstTokenTimeout extends Error {
  constructor(ms: number) {
    super(`sent no first token within ${ms} ms`);
    this.name = "FirstTokenTimeout";
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
  if (reason instanceof GatewayStopping) return stopped(reason);
  if (
    reason instanceof ConnectTimeout || reason instanceof FirstByteTimeout ||
    reason instanceof FirstTokenTimeout
  ) {
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

/**
 * The backend broke off, or stopped sending, a successful answer before it was whole (or, for
 * a stream, before its first event).
 */
export function brokenAnswer(reason: unknown, retry: RetrySettings): TransportFailure {
  if (reason instanceof GatewayStopping) return stopped(reason);
  if (reason instanceof FirstTokenTimeout) return sendFailure(reason, retry);
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

/**
 * A successful stream whose first event is an error (an overloaded engine's way of failing
 * after its head went out): a failure of the instance, as a `502` would be.
 */
export function errorEvent(message: string, retry: RetrySettings): TransportFailure {
  return {
    kind: "transport",
    error: new GatewayError(
      502,
      "upstream_error",
      `The backend's stream began with an error: ${message}`,
    ),
    unreachable: false,
    permanent: false,
    retryable: retry.statuses.has(502),
    outcome: "bad_answer",
  };
}

/**
 * The gateway stopped the attempt at the end of its shutdown grace period: no failure of the
 * instance, and nothing to retry.
 */
function stopped(reason: GatewayStopping): TransportFailure {
  return {
    kind: "transport",
    error: new GatewayError(
      503,
      "gateway_stopping",
      `${reason.message} and its grace period is over: try again`,
      { type: "server_error", headers: { connection: "close" } },
    ),
    unreachable: false,
    retryable: false,
    permanent: false,
    outcome: "stopped",
  };
}

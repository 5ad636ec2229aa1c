/**
 * How a transport says a request to a backend failed, where the socket's own error does not
 * say it: an answer that breaks HTTP, a connection that did not open in time, an address the
 * target may not be reached at, a proxy that did not reach the backend, and a TLS handshake
 * that failed.
 * @module
 */

/** The backend's answer is not HTTP the gateway can read and pass on. */
export class ProtocolError extends Error {
  constructor(detail: string) {
    super(`The backend's answer is not valid HTTP: ${detail}`);
    this.name = "ProtocolError";
  }
}

/** No connection to the backend opened within the connect timeout. */
export class ConnectTimeout extends Error {
  /** The connect timeout, in ms. */
  readonly ms: number;

  constructor(ms: number) {
    super(`did not accept a connection within ${ms} ms`);
    this.name = "ConnectTimeout";
    this.ms = ms;
  }
}

/** Every address of the backend's host is one that the target's address check refuses. */
export class AddressRefused extends Error {
  /** `refusal` says why, starting with the address. */
  constructor(refusal: string) {
    super(refusal);
    this.name = "AddressRefused";
  }
}

/** The TLS handshake with the backend failed: its certificate is not accepted, or it is not TLS. */
export class TlsFailure extends Error {
  /** What failed, in a few words: `unknown issuer`, `name mismatch`, `expired`, … */
  readonly reason: string;

  constructor(failure: {
    readonly hostname: string;
    readonly reason: string;
    /** The runtime's own words. */
    readonly detail: string;
    /** What the operator can do. */
    readonly remedy: string;
  }) {
    super(
      `The TLS handshake with "${failure.hostname}" failed (${failure.reason}: ` +
        `${failure.detail}); ${failure.remedy}`,
    );
    this.name = "TlsFailure";
    this.reason = failure.reason;
  }
}

/**
 * The proxy did not reach the backend: it refused the `CONNECT` tunnel, or answered a plain
 * request itself with a `Proxy-Status` error (RFC 9209).
 */
export class ProxyRefused extends Error {
  /** The proxy's status. */
  readonly status: number;
  /** The proxy's `Proxy-Status` error type, e.g. `connection_refused`, if it gave one. */
  readonly error: string | undefined;

  constructor(
    status: number,
    options: { readonly tunnel: boolean; readonly error?: string | undefined },
  ) {
    const why = options.error ? ` (${options.error})` : "";
    super(
      options.tunnel
        ? `the proxy refused the tunnel with ${status}${why}`
        : `the proxy answered ${status} in the backend's place${why}`,
    );
    this.name = "ProxyRefused";
    this.status = status;
    this.error = options.error;
  }

  /** The proxy gave up waiting for the backend: a `504`, or a `…_timeout` error type. */
  get timedOut(): boolean {
    return this.status === 504 || (this.error?.endsWith("_timeout") ?? false);
  }
}

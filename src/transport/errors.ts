/**
 * How a transport says a request to a backend failed, where the socket's own error does not
 * say it: an answer that breaks HTTP, a connection that did not open in time, an address the
 * target may not be reached at, and a TLS handshake that failed.
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

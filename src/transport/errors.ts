/**
 * How a transport says a request to a backend failed, where the socket's own error does not
 * say it: an answer that breaks HTTP, a connection that did not open in time, and an address
 * the target may not be reached at.
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

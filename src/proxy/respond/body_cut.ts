/**
 * The error a client's body ends with when the backend's broke off and nothing could end it
 * cleanly (a stream that is not SSE): the client's connection is cut, and the request line
 * already tells why.
 * @module
 */

/** A client's body cut on purpose; its `cause` is why the backend's broke off. */
export class BodyCut extends Error {
  constructor(cause: unknown) {
    super("The backend's body broke off, so the client's was cut", { cause });
    this.name = "BodyCut";
  }
}

/**
 * The gateway's own HTTP/1.1 client as a {@linkcode Transport}, for plain-HTTP backends.
 * @module
 */
import { Http1Client } from "./http1/client.ts";
import type { Connect } from "./http1/socket.ts";
import type { Transport, TransportRequest, TransportTarget } from "./transport.ts";
import { UpstreamAnswer } from "./upstream_answer.ts";

const EMPTY = new Uint8Array();

/** A transport over keep-alive connections that `connect` opens; `http:` targets only. */
export function http1Transport(connect: Connect): Transport & { readonly client: Http1Client } {
  const client = new Http1Client(connect);
  return {
    client,
    async send(target: TransportTarget, request: TransportRequest): Promise<UpstreamAnswer> {
      if (target.http1 === undefined) {
        throw new TypeError(`Cannot send to "${target.url}" over plain HTTP/1.1`);
      }
      const { status, statusText, headers, body } = await client.request(target.http1, {
        method: request.method,
        headers: request.headers,
        body: request.body ?? EMPTY,
        signal: request.signal,
        connectTimeout: request.connectTimeout,
      });
      return new UpstreamAnswer(status, statusText, headers, body);
    },
    close: () => client.close(),
  };
}

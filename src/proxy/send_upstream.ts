/**
 * How an attempt's request reaches its instance: over the gateway's own HTTP/1.1 client when
 * the gateway has one and the instance speaks plain HTTP, else through `fetch` (TLS, proxies
 * from the environment, tracing).
 * @module
 */
import type { Http1Client } from "../http1/client.ts";
import type { Upstream } from "../registry/snapshot.ts";
import type { UpstreamHeaders } from "./headers.ts";

/** One attempt's request, sent as a `POST` to the instance's URL. */
export interface UpstreamRequest {
  readonly headers: UpstreamHeaders;
  readonly body: Uint8Array<ArrayBuffer>;
  readonly signal: AbortSignal;
}

/** Sends a request to an instance; resolves with its answer once the head has arrived. */
export type SendUpstream = (upstream: Upstream, request: UpstreamRequest) => Promise<Response>;

/** Sends through `fetch`, redirects passed on rather than followed. */
export const sendWithFetch: SendUpstream = (upstream, request) =>
  fetch(upstream.url, {
    method: "POST",
    headers: request.headers,
    body: request.body,
    signal: request.signal,
    redirect: "manual",
  });

/** Sends over `client` where the instance allows it, through `fetch` elsewhere. */
export function sendUpstreamOver(client: Http1Client | undefined): SendUpstream {
  if (client === undefined) return sendWithFetch;
  return (upstream, request) =>
    upstream.http1 === undefined
      ? sendWithFetch(upstream, request)
      : client.request(upstream.http1, { method: "POST", ...request });
}

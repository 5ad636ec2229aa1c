/**
 * How an attempt's request reaches its instance: over the gateway's own HTTP/1.1 client when
 * the gateway has one and the instance speaks plain HTTP, else through `fetch` (TLS, proxies
 * from the environment, tracing).
 * @module
 */
import type { Http1Client } from "../http1/client.ts";
import type { Upstream } from "../registry/snapshot.ts";
import type { UpstreamHeaders } from "./headers.ts";
import { UpstreamAnswer } from "./upstream_answer.ts";

/** One attempt's request, sent as a `POST` to the instance's URL. */
export interface UpstreamRequest {
  readonly headers: UpstreamHeaders;
  readonly body: Uint8Array<ArrayBuffer>;
  readonly signal: AbortSignal;
}

/** Sends a request to an instance; resolves with its answer once the head has arrived. */
export type SendUpstream = (
  upstream: Upstream,
  request: UpstreamRequest,
) => Promise<UpstreamAnswer>;

/** Sends through `fetch`, redirects passed on rather than followed. */
export const sendWithFetch: SendUpstream = async (upstream, request) =>
  UpstreamAnswer.fromResponse(
    await fetch(upstream.url, {
      method: "POST",
      headers: [...request.headers],
      body: request.body,
      signal: request.signal,
      redirect: "manual",
    }),
  );

/** Sends over `client` where the instance allows it, through `fetch` elsewhere. */
export function sendUpstreamOver(client: Http1Client | undefined): SendUpstream {
  if (client === undefined) return sendWithFetch;
  return async (upstream, request) => {
    if (upstream.http1 === undefined) return sendWithFetch(upstream, request);
    const { status, statusText, headers, body } = await client.request(upstream.http1, {
      method: "POST",
      ...request,
    });
    return new UpstreamAnswer(status, statusText, headers, body);
  };
}

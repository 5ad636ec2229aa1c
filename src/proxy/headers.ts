/**
 * Which headers cross the gateway, in each direction.
 * @module
 */

/** Hop-by-hop headers (RFC 9110 §7.6.1): they describe one connection and never cross a proxy. */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

/** Client headers that are not passed upstream as they are. */
const NOT_FORWARDED = new Set([
  ...HOP_BY_HOP,
  "host",
  "content-length",
  "content-type",
  "accept-encoding",
  "authorization",
  "x-api-key",
  "x-request-id",
  "x-forwarded-for",
]);

/** Credentials the client presents to the gateway; forwarded only when an instance asks. */
const CLIENT_CREDENTIALS = ["authorization", "x-api-key"] as const;

/** What the gateway adds to every upstream request. */
export interface ForwardedFor {
  readonly requestId: string;
  /** The `X-Forwarded-For` to send: the trusted chain the request came through, and its peer. */
  readonly forwardedFor: string;
  readonly contentType: string;
  /**
   * The runtime traces requests and sets the upstream trace context itself (a child of the
   * client's), so the client's `traceparent` and `tracestate` are not copied.
   */
  readonly traced: boolean;
}

/** W3C trace context headers, which the runtime's tracing sets on `fetch` when it is on. */
const TRACE_CONTEXT = new Set(["traceparent", "tracestate"]);

/**
 * Headers sent upstream, by lower-case name. A plain record, not a `Headers` object: `fetch`
 * takes a record in one cheap pass, where a `Headers` object is sorted and checked again.
 */
export type UpstreamHeaders = Record<string, string>;

/**
 * The headers every attempt of one request shares: the client's, less hop-by-hop headers and
 * credentials, plus the request id and `X-Forwarded-For`. Bodies are never compressed upstream,
 * so they can be relayed as they arrive.
 */
export function baseUpstreamHeaders(client: Headers, forwarded: ForwardedFor): UpstreamHeaders {
  const named = connectionTokens(client);
  // No prototype: a header may be called `__proto__`.
  const headers: UpstreamHeaders = Object.create(null);
  for (const [name, value] of client) {
    if (NOT_FORWARDED.has(name) || named?.has(name)) continue;
    if (forwarded.traced && TRACE_CONTEXT.has(name)) continue;
    headers[name] = value;
  }
  headers["content-type"] = forwarded.contentType;
  headers["accept-encoding"] = "identity";
  headers["x-request-id"] = forwarded.requestId;
  headers["x-forwarded-for"] = forwarded.forwardedFor;
  return headers;
}

/**
 * Headers for one attempt: the shared ones, the client's credentials if allowed, the instance's
 * own (names in lower case), and `contentType` when a translation changed what is sent.
 */
export function attemptHeaders(
  base: UpstreamHeaders,
  client: Headers,
  instance: {
    readonly headers: readonly (readonly [string, string])[];
    readonly forwardAuthorization: boolean;
  },
  contentType?: string,
): UpstreamHeaders {
  if (
    instance.headers.length === 0 && !instance.forwardAuthorization && contentType === undefined
  ) {
    return base;
  }
  const headers: UpstreamHeaders = Object.assign(Object.create(null), base);
  if (contentType !== undefined) headers["content-type"] = contentType;
  if (instance.forwardAuthorization) {
    for (const name of CLIENT_CREDENTIALS) {
      const value = client.get(name);
      if (value !== null) headers[name] = value;
    }
  }
  for (const [name, value] of instance.headers) headers[name] = value;
  return headers;
}

/**
 * A backend's response headers, less hop-by-hop ones, as name and value pairs (`Set-Cookie`
 * may come more than once). The request id is added by middleware.
 */
export function responseHeaders(upstream: Headers): [string, string][] {
  const named = connectionTokens(upstream);
  const headers: [string, string][] = [];
  for (const pair of upstream) {
    if (!HOP_BY_HOP.has(pair[0]) && !named?.has(pair[0])) headers.push(pair);
  }
  return headers;
}

/** Header names listed in `Connection`, which are hop-by-hop too. */
function connectionTokens(headers: Headers): Set<string> | undefined {
  const value = headers.get("connection");
  if (!value) return undefined;
  return new Set(value.split(",").map((token) => token.trim().toLowerCase()).filter(Boolean));
}

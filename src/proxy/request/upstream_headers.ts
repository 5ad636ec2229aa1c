/**
 * Which headers cross the gateway, in each direction.
 * @module
 */

/** Hop-by-hop headers (RFC 9110 §7.6.1): they describe one connection and never cross a proxy. */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
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
   * Tracing is on: each attempt sends the trace context of its own span (a child of the
   * client's), so the client's `traceparent` and `tracestate` are not copied.
   */
  readonly traced: boolean;
}

/** W3C trace context headers, which each attempt sets from its span when tracing is on. */
const TRACE_CONTEXT = new Set(["traceparent", "tracestate"]);

/**
 * Headers sent upstream, by lower-case name. A map, not a `Headers` object (which is sorted
 * and checked again on every pass) nor a plain object (a header may be called `__proto__`).
 */
export type UpstreamHeaders = Map<string, string>;

/**
 * The headers every attempt of one request shares: the client's, less hop-by-hop headers and
 * credentials, plus the request id and `X-Forwarded-For`. Bodies are never compressed upstream,
 * so they can be relayed as they arrive.
 */
export function baseUpstreamHeaders(client: Headers, forwarded: ForwardedFor): UpstreamHeaders {
  const named = connectionTokens(client);
  const headers: UpstreamHeaders = new Map();
  // `forEach` costs a fraction of a `for…of` over a `Headers` object.
  client.forEach((value, name) => {
    if (NOT_FORWARDED.has(name) || named?.has(name)) return;
    if (forwarded.traced && TRACE_CONTEXT.has(name)) return;
    headers.set(name, value);
  });
  headers.set("content-type", forwarded.contentType);
  headers.set("accept-encoding", "identity");
  headers.set("x-request-id", forwarded.requestId);
  headers.set("x-forwarded-for", forwarded.forwardedFor);
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
  const headers: UpstreamHeaders = new Map(base);
  if (contentType !== undefined) headers.set("content-type", contentType);
  if (instance.forwardAuthorization) {
    for (const name of CLIENT_CREDENTIALS) {
      const value = client.get(name);
      if (value !== null) headers.set(name, value);
    }
  }
  for (const [name, value] of instance.headers) headers.set(name, value);
  return headers;
}

/** Header names listed in `Connection`, which are hop-by-hop too. */
function connectionTokens(headers: Headers): Set<string> | undefined {
  const value = headers.get("connection");
  return value ? tokensOf(value) : undefined;
}

/** The lower-case tokens of a comma-separated header value such as `Connection`. */
export function tokensOf(value: string): Set<string> {
  return new Set(value.split(",").map((token) => token.trim().toLowerCase()).filter(Boolean));
}

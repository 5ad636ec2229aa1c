/**
 * The ways the transport proxy can reach its backend, each behind one function that sends a
 * request whose body is whole and resolves with the backend's answer once its head has arrived,
 * as the gateway's `Transport` does: the gateway's own HTTP/1.1 client, `fetch`, and undici's
 * `Pool` (in its own module).
 * @module
 */
import { socketConnector } from "../src/transport/connect.ts";
import { http1Transport as gatewayTransport } from "../src/transport/http1_transport.ts";
import { transportTarget } from "../src/transport/target.ts";
import { UpstreamAnswer } from "../src/transport/upstream_answer.ts";

/** The candidates, by the name `--transport` takes. */
export const TRANSPORTS = ["http1", "fetch", "undici"] as const;
export type TransportName = typeof TRANSPORTS[number];

/** One request to the backend. */
export interface OutgoingRequest {
  readonly method: string;
  /** Path and query. */
  readonly path: string;
  /** Names in lower case; no `Host` nor framing headers. */
  readonly headers: Map<string, string>;
  readonly body: Uint8Array<ArrayBuffer>;
  readonly signal: AbortSignal;
}

/** Sends a request to the backend; resolves once the head of its answer has arrived. */
export type Send = (request: OutgoingRequest) => Promise<UpstreamAnswer>;

/** Where and how a transport connects. */
export interface TransportOptions {
  /** The backend's origin, `http:` or `https:`. */
  readonly upstream: URL;
  /** PEM certificate to trust for an `https:` backend, besides the system's. */
  readonly ca: string | undefined;
  /** Allow HTTP/2 where the backend offers it through ALPN; else HTTP/1.1 only. */
  readonly h2: boolean;
}

/**
 * The transport called `name`; throws if it cannot reach `options.upstream`. undici is loaded
 * only when asked for, so the other candidates run without it.
 */
export async function transport(name: TransportName, options: TransportOptions): Promise<Send> {
  switch (name) {
    case "http1":
      return http1Transport(options);
    case "fetch":
      return fetchTransport(options);
    case "undici":
      return (await import("./_undici.ts")).undiciTransport(options);
  }
}

/** The gateway's own transport, as the gateway makes it, over TCP or TLS. */
function http1Transport({ upstream, ca }: TransportOptions): Send {
  const transport = gatewayTransport(socketConnector(ca === undefined ? {} : { caCerts: [ca] }));
  const origin = upstream.origin;
  // Targets are read once, as the gateway reads its instances' when the config loads.
  const targets = new Map<string, ReturnType<typeof transportTarget>>();
  return (request) => {
    let target = targets.get(request.path);
    if (target === undefined) {
      targets.set(request.path, target = transportTarget(origin + request.path));
    }
    return transport.send(target, { ...request, connectTimeout: 5000 });
  };
}

/**
 * `fetch` as the gateway calls it, redirects passed on. An `https:` backend gets a client of its
 * own that trusts `options.ca` and, unless `options.h2`, offers HTTP/1.1 alone.
 */
function fetchTransport({ upstream, ca, h2 }: TransportOptions): Send {
  const client = upstream.protocol === "https:"
    ? Deno.createHttpClient({ caCerts: ca === undefined ? [] : [ca], http2: h2 })
    : undefined;
  const origin = upstream.origin;
  return async (request) => {
    const response = await fetch(origin + request.path, {
      method: request.method,
      headers: [...request.headers],
      body: request.body,
      signal: request.signal,
      redirect: "manual",
      ...(client === undefined ? {} : { client }),
    });
    const headers: [string, string][] = [];
    response.headers.forEach((value, name) => headers.push([name, value]));
    return new UpstreamAnswer(response.status, response.statusText, headers, response.body);
  };
}

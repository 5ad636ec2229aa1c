/**
 * A backend URL read once, when the config loads, into what a request to it needs: where to
 * connect, whether over TLS, the `Host` header, the request target, and its pool's name.
 * @module
 */
import type { TransportTarget } from "./transport.ts";

/** The target of `url`, an `http:` or `https:` URL. Throws a `TypeError` for another scheme. */
export function transportTarget(url: string): TransportTarget {
  const parsed = new URL(url);
  const tls = parsed.protocol === "https:";
  if (!tls && parsed.protocol !== "http:") {
    throw new TypeError(`Cannot send requests to "${url}": not an http: or https: URL`);
  }
  const hostname = parsed.hostname.replace(/^\[(.*)\]$/, "$1");
  const port = parsed.port ? Number(parsed.port) : tls ? 443 : 80;
  return {
    url,
    http1: {
      hostname,
      port,
      tls,
      host: parsed.host,
      path: parsed.pathname + parsed.search,
      key: `${parsed.protocol}//${hostname}:${port}`,
    },
  };
}

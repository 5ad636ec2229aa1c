/**
 * A backend URL read once, when the config loads, into what a request to it needs: where to
 * connect, whether over TLS, the `Host` header, the request target, its pool's name, and which
 * addresses it may be connected to.
 * @module
 */
import type { AddressCheck } from "../net/address_policy.ts";
import type { TransportTarget } from "./transport.ts";

/** Options for {@linkcode transportTarget}. */
export interface TransportTargetOptions {
  /** Which addresses the target may be connected to; undefined trusts every address. */
  readonly addressCheck?: AddressCheck | undefined;
}

/** The target of `url`, an `http:` or `https:` URL. Throws a `TypeError` for another scheme. */
export function transportTarget(
  url: string,
  options: TransportTargetOptions = {},
): TransportTarget {
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
      // A checked target never takes a connection an unchecked one opened.
      key: `${parsed.protocol}//${hostname}:${port}${options.addressCheck ? " checked" : ""}`,
      addressCheck: options.addressCheck,
    },
  };
}

/**
 * The HTTP proxies the environment names (`HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY` and their
 * lower-case forms, less the hosts in `NO_PROXY`), and the way through one to a target.
 * @module
 */
import type { Http1Target } from "./http1/client.ts";
import type { ProxyHop } from "./http1/socket.ts";

/** The proxies for plain and TLS targets, and the hosts reached without one. */
export interface ProxySettings {
  readonly http: ProxyHop | undefined;
  readonly https: ProxyHop | undefined;
  readonly noProxy: NoProxy;
}

/** `NO_PROXY`: every host, or the listed names, domains and addresses (with optional port). */
type NoProxy =
  | { readonly all: true }
  | { readonly all: false; readonly entries: readonly NoProxyEntry[] };

interface NoProxyEntry {
  /** A host name or address, or a domain whose subdomains match too; lower case. */
  readonly host: string;
  readonly port: number | undefined;
}

/**
 * The proxies `env` names; undefined when it names none. The lower-case name wins where both
 * are set, as curl reads them. Throws a `TypeError` naming the variable for a proxy URL that
 * is not `http://`.
 */
export function proxySettings(
  env: (name: string) => string | undefined,
): ProxySettings | undefined {
  const read = (name: string): { url: string; variable: string } | undefined => {
    for (const variable of [name.toLowerCase(), name]) {
      const url = env(variable);
      if (url) return { url, variable };
    }
    return undefined;
  };
  const all = read("ALL_PROXY");
  const http = proxyHop(read("HTTP_PROXY") ?? all);
  const https = proxyHop(read("HTTPS_PROXY") ?? all);
  if (http === undefined && https === undefined) return undefined;
  return { http, https, noProxy: parseNoProxy(read("NO_PROXY")?.url ?? "") };
}

/**
 * `target` as reached through the proxy for its scheme: a plain-HTTP request names the whole
 * URL to the proxy, a TLS one goes through a `CONNECT` tunnel. `target` itself when no proxy
 * applies.
 */
export function throughProxy(target: Http1Target, settings: ProxySettings): Http1Target {
  const hop = target.tls ? settings.https : settings.http;
  if (hop === undefined || bypasses(settings.noProxy, target)) return target;
  return {
    ...target,
    proxy: hop,
    path: target.tls ? target.path : `http://${target.host}${target.path}`,
    key: `${target.key} via ${hop.hostname}:${hop.port}`,
  };
}

function proxyHop(
  named: { readonly url: string; readonly variable: string } | undefined,
): ProxyHop | undefined {
  if (named === undefined) return undefined;
  const { url, variable } = named;
  let parsed: URL;
  try {
    parsed = new URL(url.includes("://") ? url : `http://${url}`);
  } catch {
    throw new TypeError(`Cannot use the proxy "${url}" from ${variable}: not a URL`);
  }
  if (parsed.protocol !== "http:") {
    throw new TypeError(
      `Cannot use the proxy "${url}" from ${variable}: only http:// proxies are supported`,
    );
  }
  const credentials = parsed.username === ""
    ? undefined
    : `${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`;
  return {
    hostname: parsed.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: parsed.port ? Number(parsed.port) : 80,
    authorization: credentials === undefined ? undefined : `Basic ${btoa(credentials)}`,
  };
}

function parseNoProxy(text: string): NoProxy {
  const entries: NoProxyEntry[] = [];
  for (const raw of text.split(/[,\s]+/)) {
    const entry = raw.trim().toLowerCase();
    if (entry === "") continue;
    if (entry === "*") return { all: true };
    // A port follows a name, an IPv4 address or a bracketed IPv6 one; a bare IPv6 has none.
    const port = entry.indexOf(":") === entry.lastIndexOf(":") || entry.startsWith("[")
      ? /^(.*):(\d+)$/.exec(entry)
      : null;
    const host = (port ? port[1]! : entry).replace(/^\[(.*)\]$/, "$1").replace(/^\*?\./, "");
    entries.push({ host, port: port ? Number(port[2]) : undefined });
  }
  return { all: false, entries };
}

/** Whether `NO_PROXY` names the target's host: itself, or a domain it is in. */
function bypasses(noProxy: NoProxy, target: Http1Target): boolean {
  if (noProxy.all) return true;
  const hostname = target.hostname.toLowerCase();
  return noProxy.entries.some((entry) =>
    (entry.port === undefined || entry.port === target.port) &&
    (hostname === entry.host || hostname.endsWith(`.${entry.host}`))
  );
}

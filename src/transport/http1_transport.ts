/**
 * The gateway's own HTTP/1.1 client as its {@linkcode Transport}: plain HTTP, TLS, and either
 * through the proxy the environment names.
 * @module
 */
import { Http1Client, type Http1Target } from "./http1/client.ts";
import type { IdlePoolOptions } from "./http1/idle_pool.ts";
import type { Connect } from "./http1/socket.ts";
import { type ProxySettings, throughProxy } from "./proxy_settings.ts";
import type { OwnedTransport, TransportRequest, TransportTarget } from "./transport.ts";
import { UpstreamAnswer } from "./upstream_answer.ts";
import { ProxyRefused } from "./errors.ts";
import { proxyStatusError } from "./proxy_status.ts";

const EMPTY = new Uint8Array();

/** Options for {@linkcode http1Transport}. */
export interface Http1TransportOptions extends IdlePoolOptions {
  /** The proxies requests go through; none when undefined. */
  readonly proxies?: ProxySettings | undefined;
}

/** A transport over keep-alive connections that `connect` opens. */
export function http1Transport(
  connect: Connect,
  options: Http1TransportOptions = {},
): OwnedTransport & { readonly client: Http1Client } {
  const client = new Http1Client(connect, options);
  const proxies = options.proxies;
  // The way to each target is worked out once: targets live as long as their config.
  const routes = new WeakMap<Http1Target, Http1Target>();
  const routeOf = (target: Http1Target) => {
    if (proxies === undefined) return target;
    let route = routes.get(target);
    if (route === undefined) routes.set(target, route = throughProxy(target, proxies));
    return route;
  };
  return {
    client,
    async send(target: TransportTarget, request: TransportRequest): Promise<UpstreamAnswer> {
      const route = routeOf(target.http1);
      const { status, statusText, headers, body } = await client.request(route, {
        method: request.method,
        headers: request.headers,
        body: request.body ?? EMPTY,
        signal: request.signal,
        connectTimeout: request.connectTimeout,
      });
      const answer = new UpstreamAnswer(status, statusText, headers, body);
      if (route.proxy && !route.tls && status >= 400) {
        // A proxy that could not reach the backend answers in its place, saying so.
        const error = proxyStatusError(answer.header("proxy-status"));
        if (error !== undefined) {
          await answer.cancel();
          throw new ProxyRefused(status, { tunnel: false, error });
        }
      }
      return answer;
    },
    close: () => client.close(),
    [Symbol.asyncDispose]: () => client.close(),
  };
}

/**
 * The handler of a proxied route: the request as the observing middleware and the client's
 * authentication left it, forwarded to the service's models.
 * @module
 */
import type { Context } from "hono";
import type { GatewayEnv } from "../gateway_env.ts";
import { forward, type ProxyDeps } from "../proxy/forward.ts";
import type { ProxyRequest } from "../proxy/types.ts";

/** What a route adds to the request it forwards: its service, and how its API speaks. */
export type RouteRequest = Pick<ProxyRequest, "service" | "errors" | "operation">;

/** Forwards the route's request to its service's models. */
export function proxyRoute(
  route: RouteRequest,
  deps: ProxyDeps,
): (c: Context<GatewayEnv>) => Promise<Response> {
  return function proxy(c) {
    const origin = c.get("origin");
    const record = c.get("observer");
    if (!origin || !record) throw new Error("observeRequests must run before the proxy routes");
    return forward({
      ...route,
      request: c.req.raw,
      clientIp: origin.clientIp,
      forwardedFor: origin.forwardedFor,
      requestId: c.get("requestId"),
      identity: c.get("identity"),
      delivered: c.env?.completed,
      record,
    }, deps);
  };
}

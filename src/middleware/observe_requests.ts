/**
 * Records a `/v1` service request from its arrival to its last byte: it starts the request's
 * record (which the proxy fills in on the way), notes the response and any refusal, and ends
 * the record once the server has delivered the body, or the client left.
 * @module
 */
import { getPath } from "hono/utils/url";
import type { MiddlewareHandler } from "hono";
import { GatewayError, internalError } from "../errors.ts";
import type { GatewayEnv } from "../gateway_env.ts";
import type { Origin } from "../net/forwarding.ts";
import type { Telemetry } from "../observe/telemetry.ts";
import type { ServiceType } from "../services.ts";
import type { ProxyObserver } from "../observe/proxy_observer.ts";
import type { RequestRecord } from "../observe/request_record.ts";
import { JAIROUTER_API_PREFIX } from "../routes/api_prefix.ts";

/**
 * Observes the requests of `service`: `originOf` tells who sent them, and `traced`, when tracing
 * is on, makes the proxy's observer that adds spans to the record.
 */
export function observeRequests(
  telemetry: Telemetry,
  service: ServiceType,
  options: {
    readonly originOf: (peer: string, headers: Headers) => Origin;
    readonly traced?: ((record: RequestRecord) => ProxyObserver) | undefined;
  },
): MiddlewareHandler<GatewayEnv> {
  const { originOf, traced } = options;
  return async function observeRequest(c, next) {
    const origin = originOf(c.env?.remoteAddr?.hostname ?? "unknown", c.req.raw.headers);
    const record = telemetry.start({
      service,
      requestId: c.get("requestId"),
      method: c.req.method,
      // As the client sent it: `/api/v1/…` is routed (and shown by Hono) as `/v1/…`; only then
      // is the URL read again.
      path: c.req.raw.url.includes(JAIROUTER_API_PREFIX) ? getPath(c.req.raw) : c.req.path,
      clientIp: origin.clientIp,
      arrived: c.env?.arrived,
    });
    c.set("origin", origin);
    c.set("record", record);
    c.set("observer", traced ? traced(record) : record);
    try {
      await next();
    } finally {
      const error = c.error instanceof GatewayError
        ? c.error
        : c.error
        ? internalError()
        : undefined;
      record.responded(c.res, error);
      record.finishAfter(c.env?.completed);
    }
  };
}

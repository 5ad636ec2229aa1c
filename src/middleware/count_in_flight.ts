import type { MiddlewareHandler } from "hono";
import type { IdleRelease } from "../lib/idle_release.ts";
import type { ConnectionInfo } from "../gateway_env.ts";

/**
 * Counts each request as work in flight until its response has been delivered (a stream until
 * its last byte, or until the client left), or until the handler returns where the server does
 * not say when a response was delivered.
 */
export function countInFlight(
  idle: IdleRelease,
): MiddlewareHandler<{ Bindings: ConnectionInfo }> {
  return async function countInFlight(c, next) {
    const delivered = c.env?.completed;
    if (delivered === undefined) {
      using _work = idle.begin();
      return await next();
    }
    const work = idle.begin();
    const end = () => work[Symbol.dispose]();
    delivered.then(end, end);
    await next();
  };
}

import type { MiddlewareHandler } from "hono";

/** A client-sent id is kept when it is short and plain; anything else is replaced. */
const ACCEPTABLE = /^[\w.:@/+=-]{1,128}$/;

/**
 * Gives every request an id: the client's `X-Request-Id` when acceptable, else a new UUID.
 * It is sent upstream and returned on the response.
 */
export function requestId(): MiddlewareHandler<{ Variables: { requestId: string } }> {
  return async function requestId(c, next) {
    const sent = c.req.header("x-request-id");
    const id = sent && ACCEPTABLE.test(sent) ? sent : crypto.randomUUID();
    c.set("requestId", id);
    await next();
    c.res.headers.set("x-request-id", id);
  };
}

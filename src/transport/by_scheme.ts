/**
 * The transport for each target: the gateway's own HTTP/1.1 client for plain-HTTP backends
 * when it has one, `fetch` for the rest.
 * @module
 */
import type { Transport } from "./transport.ts";

/** Sends over `http1` where the target allows it, else over `other`. */
export function byScheme(http1: Transport | undefined, other: Transport): Transport {
  if (http1 === undefined) return other;
  return {
    send: (target, request) =>
      target.http1 === undefined ? other.send(target, request) : http1.send(target, request),
    async close() {
      await Promise.all([http1.close(), other.close()]);
    },
  };
}

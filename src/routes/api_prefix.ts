/**
 * JAiRouter's `/api/v1` prefix, served as an alias of `/v1` by reading the one as the other
 * when a request is routed.
 * @module
 */
import { getPath } from "hono/utils/url";

/** JAiRouter's prefix for its client API since v2.6: `/api/v1/…` serves what `/v1/…` does. */
export const JAIROUTER_API_PREFIX = "/api/v1";

/**
 * The path a request is routed by: Hono's, with JAiRouter's `/api/v1/…` read as `/v1/…`, so
 * the alias goes through the same middleware (auth, observation) and handlers, and the
 * OpenAPI document lists each route once.
 */
export function routedPath(request: Request): string {
  const path = getPath(request);
  return path === JAIROUTER_API_PREFIX || path.startsWith(`${JAIROUTER_API_PREFIX}/`)
    ? path.slice(JAIROUTER_API_PREFIX.length - "/v1".length)
    : path;
}

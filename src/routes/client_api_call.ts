/**
 * Which requests are calls to the client API: what new requests take turns for
 * ({@linkcode TurnTaking} in `src/lib/turn_taking.ts`), and the admin API and reads do not.
 * @module
 */
import { routedPath } from "./api_prefix.ts";
import { STATISTICS_ACTIONS } from "./stats.ts";

/**
 * Whether a request is a call to the client API: a `POST` to `/v1/…` (or JAiRouter's `/api/v1/…`),
 * other than the statistics actions, which take an admin key. Not the admin API, nor any read.
 */
export function isClientApiCall(request: Request): boolean {
  if (request.method !== "POST") return false;
  const path = routedPath(request);
  return path.startsWith("/v1/") && !STATISTICS_ACTIONS.has(path);
}

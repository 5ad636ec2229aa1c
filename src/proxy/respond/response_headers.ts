/**
 * Which of a backend's answer headers go on to the client.
 * @module
 */
import { HOP_BY_HOP, tokensOf } from "../request/upstream_headers.ts";

/**
 * A backend's response headers, less hop-by-hop ones, as name and value pairs (`Set-Cookie`
 * may come more than once). The request id is added by middleware.
 */
export function responseHeaders(
  upstream: readonly (readonly [string, string])[],
): [string, string][] {
  let connection: string | undefined;
  for (const [name, value] of upstream) {
    if (name === "connection") connection = connection ? `${connection},${value}` : value;
  }
  const named = connection === undefined ? undefined : tokensOf(connection);
  const headers: [string, string][] = [];
  for (const [name, value] of upstream) {
    if (!HOP_BY_HOP.has(name) && !named?.has(name)) headers.push([name, value]);
  }
  return headers;
}

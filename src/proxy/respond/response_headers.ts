/**
 * Which of a backend's answer headers go on to the client.
 * @module
 */
import { HOP_BY_HOP, tokensOf } from "../request/upstream_headers.ts";

/**
 * Tells a buffering proxy in front (nginx) to pass a stream on as it arrives rather than hold
 * it until it ends.
 */
const NO_BUFFERING: readonly [string, string] = ["x-accel-buffering", "no"];

/**
 * A backend's response headers, less hop-by-hop ones, as name and value pairs (`Set-Cookie`
 * may come more than once). A stream's carry `X-Accel-Buffering: no` in place of any the
 * backend sent. The request id is added by middleware.
 */
export function responseHeaders(
  upstream: readonly (readonly [string, string])[],
  streamed = false,
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
  if (streamed) {
    const own = headers.findIndex(([name]) => name === NO_BUFFERING[0]);
    if (own !== -1) headers.splice(own, 1);
    headers.push([...NO_BUFFERING]);
  }
  return headers;
}

/**
 * The floor of what a Deno gateway costs: `Deno.serve` plus `fetch`, relaying method, headers
 * and body to one upstream and its response body back, and nothing else.
 *
 * Usage: `deno run --allow-net bench/bare_proxy.ts --port N --upstream http://127.0.0.1:M`
 * @module
 */
import { parseArgs } from "node:util";

const { values } = parseArgs({
  args: Deno.args,
  options: { port: { type: "string" }, upstream: { type: "string" } },
});
const port = Number(values.port);
const upstream = values.upstream ?? "";
if (!Number.isInteger(port) || port <= 0 || !URL.canParse(upstream)) {
  console.error(
    `Cannot start the bare proxy: need --port N and --upstream URL, got "${values.port}", "${upstream}"`,
  );
  Deno.exit(2);
}

Deno.serve({ hostname: "127.0.0.1", port, onListen() {} }, async function relay(request) {
  const { pathname, search } = new URL(request.url);
  const response = await fetch(upstream + pathname + search, {
    method: request.method,
    headers: request.headers,
    body: request.body,
  });
  return new Response(response.body, { status: response.status, headers: response.headers });
});

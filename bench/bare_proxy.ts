/**
 * The floor of what a Deno gateway costs: `Deno.serve` plus `fetch`, relaying method, headers
 * and body to one upstream and its response body back, and nothing else.
 *
 * With `--watch` the response body passes through a JS stream, one read per chunk, instead of
 * being piped natively by the runtime. That is the least any proxy must do to see chunks arrive,
 * as one that enforces an idle timeout between chunks has to: the floor for watched streams.
 *
 * Usage: `deno run --allow-net bench/bare_proxy.ts --port N --upstream http://127.0.0.1:M [--watch]`
 * @module
 */
import { parseArgs } from "node:util";
import { watched } from "./_watched.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    port: { type: "string" },
    upstream: { type: "string" },
    watch: { type: "boolean", default: false },
  },
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
  const body = values.watch && response.body ? watched(response.body) : response.body;
  return new Response(body, { status: response.status, headers: response.headers });
});

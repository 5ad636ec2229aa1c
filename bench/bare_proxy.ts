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

/**
 * Passes `body` on chunk by chunk, each through JS: read into one reused buffer (a BYOB read,
 * so no buffer is allocated per chunk) and copied out at the size that arrived.
 */
function watched(body: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  const reader = body.getReader({ mode: "byob" });
  let buffer = new ArrayBuffer(64 * 1024);
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await reader.read(new Uint8Array(buffer));
      if (value) buffer = value.buffer as ArrayBuffer;
      if (done || !value) controller.close();
      else controller.enqueue(value.slice());
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
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

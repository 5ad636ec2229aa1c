/**
 * A proxy as lean as the bare one, but with a choice of how it reaches its backend, to weigh
 * the transports against each other: `http1` (the gateway's own client), `fetch` or `undici`.
 * It relays the method, the headers and the body, read whole first as the gateway reads it, and
 * hands back the status, the headers less hop-by-hop ones, and the body: one of known length as
 * it is, any other chunk by chunk through JS as the gateway relays streams. Nothing else.
 *
 * `--ca FILE` trusts a PEM certificate for an `https:` upstream; `--h2` lets `fetch` and undici
 * speak HTTP/2 where the backend offers it, else they offer HTTP/1.1 alone.
 *
 * Usage: `deno run --allow-net --allow-read --allow-env bench/transport_proxy.ts --port N
 * --upstream http(s)://127.0.0.1:M --transport http1|fetch|undici [--ca FILE] [--h2]`
 * @module
 */
import { parseArgs } from "node:util";
import { responseHeaders } from "../src/proxy/respond/response_headers.ts";
import { transport, type TransportName, TRANSPORTS } from "./_transports.ts";
import { watched } from "./_watched.ts";

/** Client headers the proxy does not pass on: the transport sets them from the request. */
const NOT_FORWARDED = new Set([
  "host",
  "content-length",
  "transfer-encoding",
  "connection",
  "keep-alive",
]);

const { values } = parseArgs({
  args: Deno.args,
  options: {
    port: { type: "string" },
    upstream: { type: "string" },
    transport: { type: "string" },
    ca: { type: "string" },
    h2: { type: "boolean", default: false },
  },
});
const port = Number(values.port);
const upstream = values.upstream ?? "";
const name = values.transport as TransportName;
if (!Number.isInteger(port) || port <= 0 || !URL.canParse(upstream) || !TRANSPORTS.includes(name)) {
  console.error(
    `Cannot start the transport proxy: need --port N, --upstream URL and --transport ` +
      `${TRANSPORTS.join("|")}, got "${values.port}", "${upstream}", "${values.transport}"`,
  );
  Deno.exit(2);
}

const send = await transport(name, {
  upstream: new URL(upstream),
  ca: values.ca === undefined ? undefined : await Deno.readTextFile(values.ca),
  h2: values.h2,
});

Deno.serve({ hostname: "127.0.0.1", port, onListen() {} }, async function relay(request) {
  const { pathname, search } = new URL(request.url);
  const headers = new Map<string, string>();
  request.headers.forEach((value, name) => {
    if (!NOT_FORWARDED.has(name)) headers.set(name, value);
  });
  const answer = await send({
    method: request.method,
    path: pathname + search,
    headers,
    body: await request.bytes(),
    signal: request.signal,
  });
  const init = {
    status: answer.status,
    statusText: answer.statusText,
    headers: responseHeaders(answer.headers),
  };
  const body = answer.body;
  if (body instanceof ReadableStream && answer.header("content-length") === null) {
    return new Response(watched(body), init);
  }
  return new Response(body, init);
});

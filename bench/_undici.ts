/**
 * undici's `Pool` as a transport for the bench's transport proxy: keep-alive connections to
 * one origin, its defaults otherwise. Its answer's body, a Node stream, is handed on as a web
 * stream, one chunk per pull, as a gateway built on undici would have to.
 * @module
 */
import type { Readable } from "node:stream";
import { Pool } from "undici";
import { UpstreamAnswer } from "../src/transport/upstream_answer.ts";
import type { Send, TransportOptions } from "./_transports.ts";

/** Requests through one undici `Pool` to `options.upstream`. */
export function undiciTransport({ upstream, ca, h2 }: TransportOptions): Send {
  const pool = new Pool(upstream.origin, {
    allowH2: h2,
    ...(ca === undefined ? {} : { connect: { ca } }),
  });
  return async (request) => {
    const answer = await pool.request({
      method: request.method as "POST",
      path: request.path,
      headers: request.headers,
      body: request.body,
      signal: request.signal,
    });
    const headers: [string, string][] = [];
    for (const [name, value] of Object.entries(answer.headers)) {
      if (Array.isArray(value)) { for (const each of value) headers.push([name, each]); }
      else if (value !== undefined) headers.push([name, value]);
    }
    return new UpstreamAnswer(answer.statusCode, "", headers, webStream(answer.body));
  };
}

/** `body` as a web stream that reads one chunk each time it is pulled. */
function webStream(body: Readable): ReadableStream<Uint8Array> {
  const chunks = body[Symbol.asyncIterator]() as AsyncIterator<Uint8Array>;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await chunks.next();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel(reason) {
      body.destroy(reason instanceof Error ? reason : undefined);
    },
  }, { highWaterMark: 0 });
}

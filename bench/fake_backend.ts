/**
 * A fake OpenAI-compatible backend for the bench: `POST /v1/chat/completions` answers a small
 * JSON completion, or with `"stream": true` an SSE stream of {@linkcode CHUNKS} chunks and
 * `data: [DONE]`. Every answer is built once at start, so the backend costs as little as it can.
 * The `x-bench-chunk-delay` request header (ms) spaces the stream's chunks, to tell the first
 * byte from the last; throughput runs send none.
 *
 * The `x-bench-stream-chunks` request header asks for a long stream of that many chunks instead,
 * one every `x-bench-chunk-delay` ms on a fixed schedule from the first (so one late timer does
 * not push back the rest), each stamped with the time it was sent: its content is
 * `sent <ms since the epoch, to the µs>`, which a client on the same host compares with its own
 * clock to tell what the path between them added.
 *
 * The `x-bench-answer-delay` request header (ms) holds back a JSON answer that long, as a model
 * takes time to answer.
 *
 * `POST /v1/audio/transcriptions` and `POST /v1/images/edits` read an upload chunk by chunk,
 * keeping none of it, and answer `{"text":"…","bytes":N}` with the number of bytes received.
 *
 * `GET /health` answers 200 and `GET /v1/models` lists `bench-model`, so that a gateway on its
 * default config (whose vLLM instance is at port 8000) finds it up and serving.
 *
 * With `--cert FILE --key FILE` (PEM) it serves https instead of plain HTTP.
 *
 * Usage: `deno run --allow-net [--allow-read] bench/fake_backend.ts --port N [--cert FILE --key FILE]`
 * @module
 */
import { parseArgs } from "node:util";

/** Chunks in one streamed answer, before `data: [DONE]`. */
export const CHUNKS = 20;

const encoder = new TextEncoder();
const created = Math.floor(Date.now() / 1000);

const models = JSON.stringify({
  object: "list",
  data: [{ id: "bench-model", object: "model", owned_by: "bench" }],
});
const completion = encoder.encode(JSON.stringify({
  id: "chatcmpl-bench",
  object: "chat.completion",
  created,
  model: "bench-model",
  choices: [{
    index: 0,
    message: { role: "assistant", content: "Hello! How can I help you today?" },
    finish_reason: "stop",
  }],
  usage: { prompt_tokens: 9, completion_tokens: 9, total_tokens: 18 },
}));

/** One SSE chunk of a streamed completion holding `content`; the last says `"stop"`. */
function completionChunk(content: string, last: boolean): Uint8Array {
  return encoder.encode(`data: ${
    JSON.stringify({
      id: "chatcmpl-bench",
      object: "chat.completion.chunk",
      created,
      model: "bench-model",
      choices: [{ index: 0, delta: { content }, finish_reason: last ? "stop" : null }],
    })
  }\n\n`);
}

const streamChunks = [
  ...Array.from(
    { length: CHUNKS },
    (_, index) => completionChunk(`token${index} `, index === CHUNKS - 1),
  ),
  encoder.encode("data: [DONE]\n\n"),
];

/** `performance.timeOrigin + performance.now()`: the epoch in ms, to the µs, across processes. */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

/** The content of a stamped chunk sent at `sentMs`, as {@linkcode parseSentStamp} reads it. */
function sentStamp(sentMs: number): string {
  return `sent ${sentMs.toFixed(3)}`;
}

/** The send time stamped in an SSE event of a long stream, or undefined if it holds none. */
export function parseSentStamp(event: string): number | undefined {
  const match = /"sent (\d+\.\d+)"/.exec(event);
  return match ? Number(match[1]) : undefined;
}

/** One stamped chunk of a long stream; the last one says `finish_reason: "stop"`. */
function stampedChunk(last: boolean): Uint8Array {
  return completionChunk(sentStamp(epochMs()), last);
}

/** A long stream: `chunks` stamped chunks, `delayMs` apart, then `data: [DONE]`. */
function longStreamBody(chunks: number, delayMs: number): ReadableStream<Uint8Array> {
  const start = performance.now();
  let next = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (next === chunks) {
        controller.enqueue(streamChunks.at(-1)!);
        controller.close();
        return;
      }
      const wait = start + next * delayMs - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      next++;
      controller.enqueue(stampedChunk(next === chunks));
    },
  }, { highWaterMark: 0 });
}

function streamBody(delayMs: number): ReadableStream<Uint8Array> {
  let next = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (next > 0 && delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
      const chunk = streamChunks[next++];
      if (chunk) controller.enqueue(chunk);
      if (next >= streamChunks.length) controller.close();
    },
  }, { highWaterMark: 0 });
}

/** Paths that take an upload, read and dropped as it arrives. */
const UPLOAD_PATHS = new Set(["/v1/audio/transcriptions", "/v1/images/edits"]);

/** Reads an upload to its end, keeping none of it; answers with the bytes it counted. */
async function discardUpload(request: Request): Promise<Response> {
  let bytes = 0;
  if (request.body !== null) {
    for await (const chunk of request.body) bytes += chunk.byteLength;
  }
  return new Response(JSON.stringify({ text: "Hello.", bytes }), {
    headers: { "content-type": "application/json" },
  });
}

/** Answers one request to the fake backend. */
export async function handle(request: Request): Promise<Response> {
  const { pathname } = new URL(request.url);
  if (UPLOAD_PATHS.has(pathname)) {
    return request.method === "POST"
      ? await discardUpload(request)
      : new Response("Use POST", { status: 405 });
  }
  // What a gateway's health checks and model discovery read (vLLM's, for the default config).
  if (request.method === "GET" && pathname === "/health") return new Response("ok");
  if (request.method === "GET" && pathname === "/v1/models") {
    return new Response(models, { headers: { "content-type": "application/json" } });
  }
  if (pathname !== "/v1/chat/completions") return new Response("Not found", { status: 404 });
  if (request.method !== "POST") return new Response("Use POST", { status: 405 });
  let stream = false;
  try {
    const body: unknown = await request.json();
    stream = typeof body === "object" && body !== null && "stream" in body &&
      body.stream === true;
  } catch {
    return new Response("Body is not JSON", { status: 400 });
  }
  if (!stream) {
    const answerDelay = Number(request.headers.get("x-bench-answer-delay") ?? "0");
    if (Number.isFinite(answerDelay) && answerDelay > 0) {
      await new Promise((resolve) => setTimeout(resolve, answerDelay));
    }
    return new Response(completion, { headers: { "content-type": "application/json" } });
  }
  const delayHeader = Number(request.headers.get("x-bench-chunk-delay") ?? "0");
  const delay = Number.isFinite(delayHeader) ? delayHeader : 0;
  const chunks = Number(request.headers.get("x-bench-stream-chunks") ?? "0");
  const body = Number.isInteger(chunks) && chunks > 0
    ? longStreamBody(chunks, delay)
    : streamBody(delay);
  return new Response(body, {
    headers: { "content-type": "text/event-stream", "cache-control": "no-cache" },
  });
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { port: { type: "string" }, cert: { type: "string" }, key: { type: "string" } },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port <= 0) {
    console.error(
      `Cannot start the fake backend: --port must be a port number, got "${values.port}"`,
    );
    Deno.exit(2);
  }
  if ((values.cert === undefined) !== (values.key === undefined)) {
    console.error("Cannot start the fake backend: https needs both --cert and --key");
    Deno.exit(2);
  }
  const tls = values.cert === undefined || values.key === undefined ? {} : {
    cert: await Deno.readTextFile(values.cert),
    key: await Deno.readTextFile(values.key),
  };
  Deno.serve({ hostname: "127.0.0.1", port, onListen() {}, ...tls }, handle);
}

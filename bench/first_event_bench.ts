/**
 * What reading a stream's first SSE event costs before the stream is passed on
 * (`src/proxy/respond/first_event.ts`), against reading its first chunk alone: for a chunk that
 * holds one event, and for one that holds a whole 20-event stream, as a short stream arrives
 * under load.
 *
 * Usage: `deno bench --no-check bench/first_event_bench.ts`
 * @module
 */
import { chunkReader } from "../src/lib/chunk_reader.ts";
import { readFirstEvent } from "../src/proxy/respond/first_event.ts";

const encoder = new TextEncoder();

function event(index: number): string {
  return `data: ${
    JSON.stringify({
      id: "chatcmpl-bench",
      object: "chat.completion.chunk",
      created: 1_733_300_000,
      model: "bench-model",
      choices: [{ index: 0, delta: { content: `token${index} ` }, finish_reason: null }],
    })
  }\n\n`;
}

const CHUNKS = {
  "one event": encoder.encode(event(0)),
  "a whole stream": encoder.encode(
    Array.from({ length: 20 }, (_, index) => event(index)).join("") + "data: [DONE]\n\n",
  ),
};

function streamOf(chunk: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream({
    pull(controller) {
      controller.enqueue(chunk);
      controller.close();
    },
  });
}

for (const [name, chunk] of Object.entries(CHUNKS)) {
  Deno.bench(`read the first chunk: ${name}`, { group: name, baseline: true }, async () => {
    await chunkReader(streamOf(chunk)).read();
  });
  Deno.bench(`read the first event: ${name}`, { group: name }, async () => {
    await readFirstEvent(streamOf(chunk), { idleTimeout: 0, onIdle: () => {} });
  });
}

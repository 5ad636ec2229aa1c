import assert from "node:assert/strict";
import { chunkReader, FIRST_CHUNK_BUFFER_SIZE, MAX_CHUNK_BUFFER_SIZE } from "./chunk_reader.ts";

/**
 * A byte stream, as `fetch` gives, that serves `chunks` one per read; `offered` gets the size of
 * each buffer a read brought.
 */
function byteStream(
  chunks: Uint8Array[],
  onCancel?: (reason: unknown) => void,
  offered?: number[],
): ReadableStream<Uint8Array> {
  return new ReadableStream({
    type: "bytes",
    pull(controller: ReadableByteStreamController) {
      const next = chunks.shift();
      if (next === undefined) {
        controller.close();
        controller.byobRequest?.respond(0);
        return;
      }
      const view = controller.byobRequest?.view;
      if (!view) return controller.enqueue(next as Uint8Array<ArrayBuffer>);
      offered?.push(view.byteLength);
      const target = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
      const now = next.subarray(0, target.byteLength);
      target.set(now);
      if (now.byteLength < next.byteLength) chunks.unshift(next.subarray(now.byteLength));
      controller.byobRequest!.respond(now.byteLength);
    },
    cancel: (reason) => onCancel?.(reason),
  });
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array[]> {
  const reader = chunkReader(stream);
  const chunks: Uint8Array[] = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return chunks;
    chunks.push(value);
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

Deno.test("a byte stream's chunks come out whole, each its own copy of exactly what was read", async () => {
  const chunks = await readAll(byteStream([encoder.encode("data: a\n\n"), encoder.encode("b")]));
  assert.deepEqual(chunks.map((chunk) => decoder.decode(chunk)), ["data: a\n\n", "b"]);
  // Reading the second chunk into the shared buffer did not change the first.
  assert.notEqual(chunks[0]!.buffer, chunks[1]!.buffer);
  assert.equal(chunks[0]!.buffer.byteLength, "data: a\n\n".length);
});

Deno.test("a chunk larger than the buffer arrives in pieces that double up to the largest buffer", async () => {
  const big = new Uint8Array(200_000).map((_, index) => index % 251);
  const chunks = await readAll(byteStream([big]));
  const sizes = [4096, 8192, 16384, 32768, 65536, 65536];
  assert.equal(sizes[0], FIRST_CHUNK_BUFFER_SIZE);
  assert.equal(sizes.at(-1), MAX_CHUNK_BUFFER_SIZE);
  const rest = big.length - sizes.reduce((sum, size) => sum + size);
  assert.deepEqual(chunks.map((chunk) => chunk.byteLength), [...sizes, rest]);
  assert.deepEqual(new Uint8Array(await new Blob(chunks as BlobPart[]).arrayBuffer()), big);
});

Deno.test("a stream of small chunks is read into a small buffer", async () => {
  const offered: number[] = [];
  const events = Array.from({ length: 20 }, (_, n) => encoder.encode(`data: ${n}\n\n`));
  const chunks = await readAll(byteStream(events, undefined, offered));
  assert.equal(chunks.length, 20);
  assert.deepEqual(new Set(offered), new Set([FIRST_CHUNK_BUFFER_SIZE]));
});

Deno.test("a fetched body is read whole", async () => {
  const text = "x".repeat(200_000);
  assert.equal(
    decoder.decode(await new Blob(await readAll(new Response(text).body!) as BlobPart[]).bytes()),
    text,
  );
});

Deno.test("a stream that is not a byte stream is read as it is", async () => {
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode("one"));
      controller.enqueue(encoder.encode("two"));
      controller.close();
    },
  });
  const chunks = await readAll(stream);
  assert.deepEqual(chunks.map((chunk) => decoder.decode(chunk)), ["one", "two"]);
});

Deno.test("cancelling the reader cancels the body with the reason", async () => {
  let reason: unknown;
  const reader = chunkReader(byteStream([encoder.encode("a"), encoder.encode("b")], (why) => {
    reason = why;
  }));
  assert.equal(decoder.decode((await reader.read()).value), "a");
  await reader.cancel("client left");
  assert.equal(reason, "client left");
});

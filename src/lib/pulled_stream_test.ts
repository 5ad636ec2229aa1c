import assert from "node:assert/strict";
import { chunkReader } from "./chunk_reader.ts";
import { PulledStream } from "./pulled_stream.ts";

const encoder = new TextEncoder();

/** A source serving `chunks` one per read, that counts reads and records a cancel. */
function source(chunks: string[]) {
  const counts = { reads: 0, cancelled: undefined as unknown };
  return {
    counts,
    reader: {
      read(): Promise<ReadableStreamReadResult<Uint8Array>> {
        counts.reads++;
        const next = chunks.shift();
        return Promise.resolve(
          next === undefined ? { done: true } : { done: false, value: encoder.encode(next) },
        );
      },
      cancel(reason?: unknown): Promise<void> {
        counts.cancelled = reason;
        return Promise.resolve();
      },
    },
  };
}

Deno.test("a pulled stream read as a stream gives its source's chunks, pulled on demand", async () => {
  const { counts, reader } = source(["a", "b"]);
  const stream = new PulledStream(reader);
  assert.equal(counts.reads, 0);
  assert.equal(await new Response(stream).text(), "ab");
  assert.equal(counts.reads, 3);
});

Deno.test("chunkReader takes a pulled stream's source itself and locks the stream", () => {
  const { reader } = source(["a"]);
  const stream = new PulledStream(reader);
  const taken = chunkReader(stream);
  assert.equal(taken, reader);
  assert.equal(stream.locked, true);
  assert.equal(stream.take(), undefined);
});

Deno.test("a pulled stream already read as a stream is read as one", async () => {
  const { reader } = source(["a", "b"]);
  const stream = new PulledStream(reader);
  const streamReader = stream.getReader();
  assert.deepEqual(await streamReader.read(), { done: false, value: encoder.encode("a") });
  streamReader.releaseLock();
  assert.equal(stream.take(), undefined);
  const chunks = chunkReader(stream);
  assert.notEqual(chunks, reader);
  assert.deepEqual(await chunks.read(), { done: false, value: encoder.encode("b") });
});

Deno.test("cancelling a pulled stream cancels its source, taken or not", async () => {
  const untaken = source([]);
  await new PulledStream(untaken.reader).cancel("gone");
  assert.equal(untaken.counts.cancelled, "gone");

  const taken = source([]);
  const stream = new PulledStream(taken.reader);
  chunkReader(stream);
  await stream.cancel("left");
  assert.equal(taken.counts.cancelled, "left");
});

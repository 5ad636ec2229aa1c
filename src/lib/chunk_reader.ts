/**
 * Reads a body chunk by chunk through one reused buffer. A byte stream (what `fetch` gives) is
 * read with a BYOB reader into that buffer, and each chunk handed out is a copy of exactly the
 * bytes read; a default reader would allocate a fresh 64 KiB buffer for every chunk, however
 * small, which under load costs more than the relaying itself. Any other stream is read as is.
 *
 * The buffer starts small, since a stream waiting for its next chunk holds it all that time,
 * and doubles each time a read fills it, so that a large body is read in large pieces.
 *
 * A {@linkcode PulledStream} not yet read hands out its own reader instead.
 * @module
 */
import { PulledStream } from "./pulled_stream.ts";

/** The buffer of a reader's first read, in bytes. */
export const FIRST_CHUNK_BUFFER_SIZE = 4 * 1024;
/** The most read at once, in bytes, as with the runtime's own reads. */
export const MAX_CHUNK_BUFFER_SIZE = 64 * 1024;

/** Reads the next chunk of a body; `cancel` gives up on the rest. */
export type ChunkReader = Pick<ReadableStreamDefaultReader<Uint8Array>, "read" | "cancel">;

const DONE: ReadableStreamReadResult<Uint8Array> = { done: true };

/** A reader of `body` that reuses one buffer when `body` is a byte stream. */
export function chunkReader(body: ReadableStream<Uint8Array>): ChunkReader {
  const source = body instanceof PulledStream ? body.take() : undefined;
  if (source !== undefined) return source;
  let byob: ReadableStreamBYOBReader;
  try {
    byob = body.getReader({ mode: "byob" });
  } catch {
    return body.getReader();
  }
  let buffer = new ArrayBuffer(FIRST_CHUNK_BUFFER_SIZE);
  return {
    async read() {
      const { done, value } = await byob.read(new Uint8Array(buffer));
      if (value === undefined) return DONE;
      // The read hands the buffer back as a new object; it is ours again.
      buffer = value.buffer as ArrayBuffer;
      if (done) return DONE;
      const chunk = value.slice();
      if (value.byteLength === buffer.byteLength && buffer.byteLength < MAX_CHUNK_BUFFER_SIZE) {
        buffer = new ArrayBuffer(buffer.byteLength * 2);
      }
      return { done: false, value: chunk };
    },
    cancel: (reason) => byob.cancel(reason),
  };
}

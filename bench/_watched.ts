/**
 * A response body passed on chunk by chunk, each through JS, as the gateway relays streams: read
 * with the gateway's own chunk reader (a BYOB read into one reused buffer where the body is a
 * byte stream, so no buffer is allocated per chunk) and handed on at the size that arrived.
 * @module
 */
import { chunkReader } from "../src/lib/chunk_reader.ts";

/** `body`, read one chunk per pull as the client reads. */
export function watched(body: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  const reader = chunkReader(body);
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
}

/**
 * A stream over a reader the gateway owns. Read as a stream, it is one. Taken by
 * `chunkReader`, it hands out that reader itself, so that relaying a chunk costs one read
 * rather than a read, an enqueue into the stream's queue and a read out of it again.
 * @module
 */

import type { ChunkReader } from "./chunk_reader.ts";

/** A stream of the chunks `source` reads, that may instead hand `source` out. */
export class PulledStream extends ReadableStream<Uint8Array> {
  readonly #source: ChunkReader;
  readonly #read: { pulled: boolean };
  #taken = false;

  constructor(source: ChunkReader) {
    const read = { pulled: false };
    super({
      async pull(controller) {
        read.pulled = true;
        const { done, value } = await source.read();
        if (done) controller.close();
        else controller.enqueue(value);
      },
      cancel: (reason) => source.cancel(reason),
    }, { highWaterMark: 0 });
    this.#source = source;
    this.#read = read;
  }

  /**
   * The source itself, when the stream has not been read yet; undefined otherwise. The stream
   * is locked from then on, and cancelling it cancels the source.
   */
  take(): ChunkReader | undefined {
    if (this.locked || this.#read.pulled) return undefined;
    this.getReader();
    this.#taken = true;
    return this.#source;
  }

  override cancel(reason?: unknown): Promise<void> {
    return this.#taken ? this.#source.cancel(reason) : super.cancel(reason);
  }
}

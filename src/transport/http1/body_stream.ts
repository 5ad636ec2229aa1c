/**
 * A response body read off its connection as it arrives: a known length, chunked, or up to the
 * connection's end. Each piece handed out is a copy of what was read, so the connection's
 * buffer is free for the next read at once; bytes that arrived together go out together.
 * @module
 */
import { PulledStream } from "../../lib/pulled_stream.ts";
import { ChunkedDecoder } from "./chunked.ts";
import { type Connection, ConnectionClosed } from "./connection.ts";
import type { Framing } from "./response_head.ts";

/** How a body stream hands its connection back. */
export interface BodyEnd {
  /** The body was read whole; `reusable` when nothing is left over on the connection. */
  done(reusable: boolean): void;
  /**
   * The body broke off (`error`) or the reader gave up (no error): the connection is closed.
   * Returns the error to fail the stream with.
   */
  failed(error: unknown): unknown;
}

/**
 * The body framed by `framing` on `connection`, read as fast as it is consumed: a stream, whose
 * reader `chunkReader` takes to read the connection with no stream stage in between.
 */
export function bodyStream(
  connection: Connection,
  framing: Framing & { kind: "length" | "chunked" | "close" },
  end: BodyEnd,
): ReadableStream<Uint8Array> {
  const chunked = framing.kind === "chunked" ? new ChunkedDecoder() : undefined;
  let left = framing.kind === "length" ? framing.length : Infinity;
  const complete = () => chunked ? chunked.done : left === 0;
  // The runs of body bytes the decoder found in the buffer, as from, to pairs: the first
  // `runsFound` entries. Kept across reads, never shortened, so that its room is reused.
  const runs: number[] = [];
  let runsFound = 0;
  const collect = (from: number, to: number) => {
    runs[runsFound++] = from;
    runs[runsFound++] = to;
  };

  /** The body bytes now in the buffer, consumed, as one copy; undefined if there are none. */
  const take = (): Uint8Array | undefined => {
    const { buffer, start, end } = connection;
    if (chunked === undefined) {
      const to = Math.min(end, start + left);
      if (left !== Infinity) left -= to - start;
      connection.start = to;
      return to > start ? buffer.slice(start, to) : undefined;
    }
    runsFound = 0;
    connection.start = chunked.decode(buffer, start, end, collect);
    if (runsFound === 0) return undefined;
    if (runsFound === 2) return buffer.slice(runs[0], runs[1]);
    let size = 0;
    for (let index = 0; index < runsFound; index += 2) size += runs[index + 1]! - runs[index]!;
    const piece = new Uint8Array(size);
    let at = 0;
    for (let index = 0; index < runsFound; index += 2) {
      piece.set(buffer.subarray(runs[index]!, runs[index + 1]!), at);
      at += runs[index + 1]! - runs[index]!;
    }
    return piece;
  };

  let ended: Promise<ReadableStreamReadResult<Uint8Array>> | undefined;
  const finish = (reusable: boolean): ReadableStreamReadResult<Uint8Array> => {
    end.done(reusable);
    ended = Promise.resolve(DONE);
    return DONE;
  };
  const fail = (error: unknown): never => {
    const reason = end.failed(error);
    ended = Promise.reject(reason);
    ended.catch(() => {});
    throw reason;
  };

  return new PulledStream({
    async read() {
      if (ended !== undefined) return await ended;
      try {
        for (;;) {
          const piece = connection.end > connection.start ? take() : undefined;
          if (complete()) {
            const last = finish(connection.start === connection.end);
            return piece === undefined ? last : { done: false, value: piece };
          }
          if (piece !== undefined) return { done: false, value: piece };
          if (!await connection.fill()) {
            if (framing.kind !== "close") throw new ConnectionClosed("midway through the body");
            return finish(false);
          }
        }
      } catch (error) {
        return fail(error);
      }
    },
    cancel() {
      if (ended === undefined) {
        end.failed(undefined);
        ended = Promise.resolve(DONE);
      }
      return Promise.resolve();
    },
  });
}

const DONE: ReadableStreamReadResult<Uint8Array> = { done: true };

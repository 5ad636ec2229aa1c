/**
 * Relays a backend's response body to the client chunk by chunk, as it arrives: no buffering,
 * an idle timeout between chunks (never a total one), and exactly one end callback however
 * the relay ends: finished, failed, or cancelled by a client that left.
 * @module
 */
import { type ChunkReader, chunkReader } from "../../lib/chunk_reader.ts";
import { type Deadline, scheduleDeadline } from "../../lib/deadlines.ts";
import { BodyCut } from "./body_cut.ts";

/** How a relay ended. */
export type RelayEnd =
  | { readonly kind: "done" }
  | { readonly kind: "cancelled" }
  | { readonly kind: "failed"; readonly error: unknown };

/** Options for {@linkcode relayBody}. */
export interface RelayOptions {
  /** Longest wait for the next chunk, in ms; 0 waits forever. */
  readonly idleTimeout: number;
  /** Called when the backend went quiet for too long; it should abort the upstream request. */
  readonly onIdle: () => void;
  /** Called when the client cancels; it should abort the upstream request. */
  readonly onCancel: () => void;
  /** Called with each chunk as it is passed on. */
  readonly onChunk?: ((chunk: Uint8Array) => void) | undefined;
  /**
   * Reshapes what the client gets: the bytes of each chunk to pass on (after `onChunk` saw it
   * as the backend sent it), and the bytes still held at the end.
   */
  readonly filter?: ChunkFilter | undefined;
  /** Called exactly once, when the relay ends. */
  readonly onEnd: (end: RelayEnd) => void;
  /**
   * Called when the whole body went through, after `onEnd`: the held bytes and the end of the
   * client's body wait for what it returns.
   */
  readonly beforeEnd?: (() => Promise<void> | undefined) | undefined;
  /**
   * The last bytes for the client when the body breaks off (an SSE error event, say): the relay
   * then ends cleanly after them instead of failing. None fails the client's stream too, with a
   * {@linkcode BodyCut}.
   */
  readonly farewell?: ((error: unknown) => Uint8Array) | undefined;
}

/** Reshapes a relayed body chunk by chunk. */
export interface ChunkFilter {
  /** The bytes to pass on for `chunk`; may be empty. */
  pass(chunk: Uint8Array): Uint8Array;
  /** The bytes held back until the end, to pass on then. */
  end(): Uint8Array;
}

/** A body whose first chunks were read already: they are relayed first, then the rest. */
export interface StartedBody {
  readonly held: readonly Uint8Array[];
  readonly reader: ChunkReader;
}

/**
 * A stream that reads `body` only as fast as the client reads. While the client waits, one pull
 * goes on reading: each chunk goes straight to the client's waiting read, with no pull, promise
 * or queue of its own. A chunk the client is not yet waiting for stays in the stream's queue, and
 * reading stops until the client has taken it: one chunk read ahead at most.
 */
export function relayBody(
  body: ReadableStream<Uint8Array> | StartedBody,
  options: RelayOptions,
): ReadableStream<Uint8Array> {
  const reader = body instanceof ReadableStream ? chunkReader(body) : body.reader;
  const held = body instanceof ReadableStream ? [] : body.held;
  let heldSent = 0;
  let ended = false;
  let cancelled = false;
  let waitingSince = 0;
  let timer: Deadline | undefined;

  const end = (result: RelayEnd) => {
    if (ended) return;
    ended = true;
    timer?.cancel();
    options.onEnd(result);
  };
  // One timer per idle period rather than one per chunk: it re-arms for the time left.
  const watch = () => {
    const waited = waitingSince === 0 ? 0 : performance.now() - waitingSince;
    if (waited >= options.idleTimeout) {
      timer = undefined;
      options.onIdle();
    } else {
      timer = scheduleDeadline(watch, options.idleTimeout - waited);
    }
  };

  return new ReadableStream<Uint8Array>({
    start() {
      if (options.idleTimeout > 0) timer = scheduleDeadline(watch, options.idleTimeout);
    },
    async pull(controller) {
      waitingSince = performance.now();
      try {
        for (;;) {
          const { done, value } = heldSent < held.length
            ? { done: false, value: held[heldSent++]! }
            : await reader.read();
          if (cancelled) return;
          waitingSince = 0;
          if (done) {
            const rest = options.filter?.end();
            end({ kind: "done" });
            const held = options.beforeEnd?.();
            if (held !== undefined) {
              await held;
              // The client left while the end waited.
              if (cancelled) return;
            }
            if (rest !== undefined && rest.byteLength > 0) controller.enqueue(rest);
            controller.close();
            return;
          }
          options.onChunk?.(value);
          const passed = options.filter ? options.filter.pass(value) : value;
          if (passed.byteLength > 0) {
            controller.enqueue(passed);
            // Taken at once by a read waiting for it: the client waits for the next one too.
            // Queued instead: the client is behind, and the next pull comes when it reads.
            if (controller.desiredSize! < 0) return;
          }
          waitingSince = performance.now();
        }
      } catch (error) {
        if (cancelled) return;
        end({ kind: "failed", error });
        if (options.farewell) {
          controller.enqueue(options.farewell(error));
          controller.close();
        } else {
          controller.error(new BodyCut(error));
        }
      }
    },
    cancel(reason) {
      cancelled = true;
      end({ kind: "cancelled" });
      options.onCancel();
      reader.cancel(reason).catch(() => {});
    },
  }, { highWaterMark: 0 });
}

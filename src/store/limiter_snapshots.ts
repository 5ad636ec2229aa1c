/**
 * Snapshots of one gateway's rate limiters in Deno KV. A snapshot is a run of chunks below the
 * gateway's own prefix (its listen address), so gateways sharing one store do not overwrite
 * each other; each chunk expires on its own once nothing in it is worth restoring. The chunks
 * are written one by one, not in one atomic commit: a large snapshot would exceed a commit's
 * size, and a half-written one only restores some limiters.
 * @module
 */
import { LIMITERS } from "./keys.ts";

/**
 * Largest chunk value, in characters (UTF-16 units). Deno KV values are at most 64 KiB as
 * serialised, and a string holding a character beyond Latin-1 (a CJK client key) takes two
 * bytes a unit, so a chunk of this many fits whatever it holds.
 */
export const SNAPSHOT_CHUNK_CHARS = 30_000;

/** One chunk of a snapshot. */
export interface SnapshotChunk {
  /** At most {@linkcode SNAPSHOT_CHUNK_CHARS} characters. */
  readonly value: string;
  /** Ms until the chunk is deleted from the store. */
  readonly expireIn: number;
}

/** Writes and reads the limiter snapshot of one gateway. */
export class LimiterSnapshotStore {
  readonly #kv: Deno.Kv;
  readonly #prefix: readonly string[];
  /** Chunks written by the last write (or found by the last read), so fewer remove the rest. */
  #chunks = 0;

  /** `owner` names the gateway the snapshot belongs to: its listen address. */
  constructor(kv: Deno.Kv, owner: string) {
    this.#kv = kv;
    this.#prefix = [...LIMITERS, owner];
  }

  /** Writes `chunks` in place of the snapshot stored before. */
  async write(chunks: readonly SnapshotChunk[]): Promise<void> {
    for (const [index, chunk] of chunks.entries()) {
      await this.#kv.set([...this.#prefix, chunkName(index)], chunk.value, {
        expireIn: chunk.expireIn,
      });
    }
    for (let index = chunks.length; index < this.#chunks; index++) {
      await this.#kv.delete([...this.#prefix, chunkName(index)]);
    }
    this.#chunks = chunks.length;
  }

  /** The values of the stored chunks, in order; what they hold is the caller's to check. */
  async read(): Promise<unknown[]> {
    const values: unknown[] = [];
    for await (const entry of this.#kv.list({ prefix: this.#prefix })) values.push(entry.value);
    this.#chunks = values.length;
    return values;
  }
}

/** Chunk keys sort in order: `00000`, `00001`… */
function chunkName(index: number): string {
  return String(index).padStart(5, "0");
}

/**
 * Limiter state saved to a key-value store (Deno KV) and read back at start, so a restart does
 * not hand every client a fresh quota. Limiters are written in chunks of JSON, each under
 * 60 KB, below the gateway's own prefix (its listen address), so gateways sharing one store do
 * not overwrite each other. A chunk expires once every limiter in it would be as good as fresh.
 * @module
 */
import { LIMITERS } from "../store/keys.ts";
import type { RateLimits, SavedLimiter } from "./rate_limits.ts";

/** The part of a Deno KV database this needs. */
export interface LimiterStore {
  set(key: readonly string[], value: unknown, options?: { expireIn?: number }): Promise<unknown>;
  delete(key: readonly string[]): Promise<void>;
  list(selector: { prefix: readonly string[] }): AsyncIterable<{
    readonly key: readonly unknown[];
    readonly value: unknown;
  }>;
}

/** Largest JSON chunk written, in characters; Deno KV values are at most 64 KiB. */
const CHUNK_CHARS = 60_000;

/** Saves and restores one gateway's limiters. */
export class LimiterPersistence {
  readonly #store: LimiterStore;
  readonly #prefix: readonly string[];
  /** Chunks written by the last save, so that a smaller save removes the rest. */
  #chunks = 0;

  constructor(store: LimiterStore, owner: string) {
    this.#store = store;
    this.#prefix = [...LIMITERS, owner];
  }

  /** Writes every limiter that is not as good as fresh; returns how many. */
  async save(limits: RateLimits, now: number): Promise<number> {
    const chunks: { json: string; expiresAt: number }[] = [];
    let entries: string[] = [];
    let chars = 2;
    let expiresAt = now;
    const flush = () => {
      if (entries.length === 0) return;
      chunks.push({ json: `[${entries.join(",")}]`, expiresAt });
      entries = [];
      chars = 2;
      expiresAt = now;
    };
    let count = 0;
    for (const saved of limits.saved(now)) {
      const json = JSON.stringify(saved);
      if (json.length + 2 > CHUNK_CHARS) continue;
      if (chars + json.length + 1 > CHUNK_CHARS) flush();
      entries.push(json);
      chars += json.length + 1;
      expiresAt = Math.max(expiresAt, saved.idleFrom);
      count++;
    }
    flush();
    for (const [index, chunk] of chunks.entries()) {
      await this.#store.set([...this.#prefix, chunkName(index)], chunk.json, {
        expireIn: Math.max(1_000, Math.ceil(chunk.expiresAt - now)),
      });
    }
    for (let index = chunks.length; index < this.#chunks; index++) {
      await this.#store.delete([...this.#prefix, chunkName(index)]);
    }
    this.#chunks = chunks.length;
    return count;
  }

  /** Puts back the saved limiters whose limits still exist unchanged; returns how many. */
  async restore(limits: RateLimits, now: number): Promise<number> {
    let restored = 0;
    let chunks = 0;
    for await (const entry of this.#store.list({ prefix: this.#prefix })) {
      chunks++;
      for (const saved of parseChunk(entry.value)) {
        if (limits.restore(saved, now)) restored++;
      }
    }
    this.#chunks = chunks;
    return restored;
  }
}

/** Chunk keys sort in order: `00000`, `00001`… */
function chunkName(index: number): string {
  return String(index).padStart(5, "0");
}

function parseChunk(value: unknown): SavedLimiter[] {
  if (typeof value !== "string") return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return [];
  }
  return Array.isArray(parsed) ? parsed.filter(isSavedLimiter) : [];
}

function isSavedLimiter(value: unknown): value is SavedLimiter {
  if (typeof value !== "object" || value === null) return false;
  const saved = value as Record<string, unknown>;
  return typeof saved.policy === "string" && typeof saved.key === "string" &&
    typeof saved.fingerprint === "string" && typeof saved.idleFrom === "number" &&
    typeof saved.state === "object" && saved.state !== null;
}

/**
 * Limiter state (request limiters and token budgets) saved to the store and read back at start,
 * so a restart does not hand every client a fresh quota. Limiters are written as JSON arrays, in
 * chunks the store can hold (`store/limiter_snapshots.ts`); a chunk expires once every limiter in
 * it would be as good as fresh. Limits whose use is shared through the store are not saved: its
 * counters hold that use.
 * @module
 */
import { type LimiterSnapshotStore, SNAPSHOT_CHUNK_CHARS } from "../store/mod.ts";
import type { RateLimits, SavedLimiter } from "./rate_limits.ts";

/** Saves and restores one gateway's limiters. */
export class LimiterPersistence {
  readonly #store: LimiterSnapshotStore;

  constructor(store: LimiterSnapshotStore) {
    this.#store = store;
  }

  /** Writes every limiter that is not as good as fresh; returns how many. */
  async save(limits: RateLimits, now: number): Promise<number> {
    const chunks: { value: string; expireIn: number }[] = [];
    let entries: string[] = [];
    let chars = 2;
    let expiresAt = now;
    const flush = () => {
      if (entries.length === 0) return;
      chunks.push({
        value: `[${entries.join(",")}]`,
        expireIn: Math.max(1_000, Math.ceil(expiresAt - now)),
      });
      entries = [];
      chars = 2;
      expiresAt = now;
    };
    let count = 0;
    for (const saved of limits.saved(now)) {
      const json = JSON.stringify(saved);
      if (json.length + 2 > SNAPSHOT_CHUNK_CHARS) continue;
      if (chars + json.length + 1 > SNAPSHOT_CHUNK_CHARS) flush();
      entries.push(json);
      chars += json.length + 1;
      expiresAt = Math.max(expiresAt, saved.idleFrom);
      count++;
    }
    flush();
    await this.#store.write(chunks);
    return count;
  }

  /** Puts back the saved limiters whose limits still exist unchanged; returns how many. */
  async restore(limits: RateLimits, now: number): Promise<number> {
    let restored = 0;
    for (const value of await this.#store.read()) {
      for (const saved of parseChunk(value)) {
        if (limits.restore(saved, now)) restored++;
      }
    }
    return restored;
  }
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

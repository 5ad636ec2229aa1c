/**
 * The audit trail of admin writes: who did what, when, and what it changed. The entries are
 * kept by the store (`store/audit.ts`); a config change writes its entry in the same atomic
 * commit as the version.
 * @module
 */
import type { AuditEntry, AuditStore } from "../store/mod.ts";

/** Makes, records and reads the entries of admin writes. */
export class AuditLog {
  readonly #store: AuditStore;
  readonly #now: () => number;

  constructor(store: AuditStore, options: { readonly now?: () => number } = {}) {
    this.#store = store;
    this.#now = options.now ?? Date.now;
  }

  /** An entry for a write made now. */
  entry(fields: Omit<AuditEntry, "at">): AuditEntry {
    return { at: new Date(this.#now()).toISOString(), ...fields };
  }

  /** Adds `entry` to an atomic commit that makes the change it records. */
  stage(commit: Deno.AtomicOperation, entry: AuditEntry): void {
    this.#store.stage(commit, entry);
  }

  /** Records `entry` on its own. */
  record(entry: AuditEntry): Promise<void> {
    return this.#store.append(entry);
  }

  /** The latest entries, newest first. */
  list(limit: number): Promise<AuditEntry[]> {
    return this.#store.latest(limit);
  }
}

/**
 * The audit trail of admin writes: who did what, when, and what it changed. The entries are
 * kept by the store (`store/audit.ts`), which writes the entry of a config version or an API
 * key change in the same atomic commit as the change.
 * @module
 */
import { redactSecrets } from "../config/secrets.ts";
import type { AuditEntry, AuditStore } from "../store/mod.ts";

/** Makes, records and reads the entries of admin writes. */
export class AuditLog {
  readonly #store: AuditStore;
  readonly #now: () => number;

  constructor(store: AuditStore, options: { readonly now?: () => number } = {}) {
    this.#store = store;
    this.#now = options.now ?? Date.now;
  }

  /** An entry for a write made now, with the secrets of what it changed redacted. */
  entry(fields: Omit<AuditEntry, "at">): AuditEntry {
    const { before, after, ...rest } = fields;
    return {
      at: new Date(this.#now()).toISOString(),
      ...rest,
      ...(before === undefined ? {} : { before: redactSecrets(before) }),
      ...(after === undefined ? {} : { after: redactSecrets(after) }),
    };
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

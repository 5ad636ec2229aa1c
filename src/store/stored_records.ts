/**
 * Records the admin API creates, one per id under a prefix in Deno KV — client API keys, teams.
 * Every write carries its audit entry in the same atomic commit and bumps one marker that every
 * gateway sharing the store watches, so a change takes effect everywhere.
 * @module
 */
import type { AuditEntry, AuditStore } from "./audit.ts";
import { API_KEYS_CHANGED } from "./keys.ts";
import { checkValueSize } from "./size.ts";

/** Reads and writes the records under one prefix. */
export class StoredRecords<T extends { readonly id: string }> {
  readonly #kv: Deno.Kv;
  readonly #audit: AuditStore;
  readonly #prefix: Deno.KvKey;
  readonly #label: string;

  /**
   * `audit` writes the entry of each change in the commit that makes it; `label` names a record
   * in errors (`The API key "x"`).
   */
  constructor(kv: Deno.Kv, audit: AuditStore, prefix: Deno.KvKey, label: string) {
    this.#kv = kv;
    this.#audit = audit;
    this.#prefix = prefix;
    this.#label = label;
  }

  /** Every record, by id. */
  async list(): Promise<T[]> {
    const records: T[] = [];
    for await (const entry of this.#kv.list<T>({ prefix: this.#prefix })) {
      records.push(entry.value);
    }
    return records;
  }

  /** One record, or undefined. */
  async get(id: string): Promise<T | undefined> {
    return (await this.#kv.get<T>([...this.#prefix, id])).value ?? undefined;
  }

  /**
   * Stores a new record with the audit entry of its creation; false when the id is taken.
   * Throws `StoreLimitError` for a record too large for one KV value.
   */
  async create(record: T, audit: AuditEntry): Promise<boolean> {
    checkValueSize(`The ${this.#label} "${record.id}"`, record);
    const key = [...this.#prefix, record.id];
    const commit = this.#kv.atomic().check({ key, versionstamp: null }).set(key, record);
    this.#audit.stage(commit, audit);
    return (await this.#bump(commit).commit()).ok;
  }

  /**
   * Replaces a record with `change(record)`, unless it changed meanwhile (then reads and tries
   * again); undefined when there is no such record. Throws `StoreLimitError` for a change that
   * makes it too large for one KV value.
   */
  async update(
    id: string,
    change: (record: T) => T,
    audit: (before: T, after: T) => AuditEntry,
  ): Promise<T | undefined> {
    for (;;) {
      const entry = await this.#kv.get<T>([...this.#prefix, id]);
      if (entry.value === null) return undefined;
      const after = change(entry.value);
      checkValueSize(`The ${this.#label} "${id}"`, after);
      const commit = this.#kv.atomic().check(entry).set([...this.#prefix, id], after);
      this.#audit.stage(commit, audit(entry.value, after));
      if ((await this.#bump(commit).commit()).ok) return after;
    }
  }

  /** Deletes a record; the record deleted, or undefined when there was none. */
  async delete(id: string, audit: (before: T) => AuditEntry): Promise<T | undefined> {
    for (;;) {
      const entry = await this.#kv.get<T>([...this.#prefix, id]);
      if (entry.value === null) return undefined;
      const commit = this.#kv.atomic().check(entry).delete([...this.#prefix, id]);
      this.#audit.stage(commit, audit(entry.value));
      if ((await this.#bump(commit).commit()).ok) return entry.value;
    }
  }

  /**
   * Calls `onChange` whenever any gateway changes the stored keys or teams, and once when the
   * watch starts, so a change made between a first read and the watch is not missed. Calls run
   * one at a time; `stop` resolves once the last has finished, so nothing reads the store after.
   */
  watch(onChange: () => Promise<void>): { stop(): Promise<void> } {
    const reader = this.#kv.watch([API_KEYS_CHANGED]).getReader();
    const watching = (async () => {
      for (;;) {
        const { done } = await reader.read().catch(() => ({ done: true }));
        if (done) return;
        await onChange();
      }
    })();
    return {
      stop: async () => {
        // The cancel itself settles only with the store's next change: not waited for.
        void reader.cancel().catch(() => {});
        await watching;
      },
    };
  }

  #bump(commit: Deno.AtomicOperation): Deno.AtomicOperation {
    return commit.sum(API_KEYS_CHANGED, 1n);
  }
}

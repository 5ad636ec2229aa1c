/**
 * Client API keys created through the admin API, in Deno KV: only the key's digest is stored,
 * and the key itself is shown once, when it is created. Every write bumps one marker key that
 * every gateway sharing the store watches, so a new or revoked key takes effect everywhere, and
 * carries its audit entry in the same atomic commit.
 * @module
 */
import type { BudgetLimits } from "../budget/budgets.ts";
import type { AuditEntry, AuditStore } from "./audit.ts";
import { API_KEYS, API_KEYS_CHANGED } from "./keys.ts";
import { checkValueSize } from "./size.ts";
import type { PriorityClass } from "../queue/priority.ts";

/** A key as stored: its settings as written, and the digest instead of the key. */
export interface StoredApiKey {
  readonly id: string;
  /** Hex SHA-256 of the key. */
  readonly digest: string;
  readonly models?: readonly string[];
  readonly "rate-limit"?: Readonly<Record<string, unknown>>;
  /** Its daily and monthly budget, as written. */
  readonly budget?: BudgetLimits;
  /** The team it belongs to, one of `auth.teams`. */
  readonly team?: string;
  /** Its requests in flight at once across the gateway; unlimited when absent. */
  readonly "max-concurrency"?: number;
  /** Class in a model's queue; its team's, else normal, when absent. */
  readonly priority?: PriorityClass;
  /** Whether `x-priority` may choose any class. */
  readonly "priority-header"?: boolean;
  readonly expires?: string;
  /** Addresses or CIDR ranges it may be used from; anywhere when absent. */
  readonly "allowed-ips"?: readonly string[];
  readonly enabled: boolean;
  /** ISO time it was created, and by which admin. */
  readonly created: string;
  readonly by: string;
}

/** Reads and writes the stored keys. */
export class ApiKeyStore {
  readonly #kv: Deno.Kv;
  readonly #audit: AuditStore;

  /** `audit` writes the entry of each change in the commit that makes it. */
  constructor(kv: Deno.Kv, audit: AuditStore) {
    this.#kv = kv;
    this.#audit = audit;
  }

  /** Every stored key, by id. */
  async list(): Promise<StoredApiKey[]> {
    const keys: StoredApiKey[] = [];
    for await (const entry of this.#kv.list<StoredApiKey>({ prefix: API_KEYS })) {
      keys.push(entry.value);
    }
    return keys;
  }

  /** One stored key, or undefined. */
  async get(id: string): Promise<StoredApiKey | undefined> {
    return (await this.#kv.get<StoredApiKey>([...API_KEYS, id])).value ?? undefined;
  }

  /**
   * Stores a new key with the audit entry of its creation; false when the id is taken. Throws
   * `StoreLimitError` for a key too large for one KV value.
   */
  async create(key: StoredApiKey, audit: AuditEntry): Promise<boolean> {
    checkValueSize(`The API key "${key.id}"`, key);
    const commit = this.#kv.atomic().check({ key: [...API_KEYS, key.id], versionstamp: null })
      .set([...API_KEYS, key.id], key);
    this.#audit.stage(commit, audit);
    return (await this.#bump(commit).commit()).ok;
  }

  /**
   * Replaces a key with `change(key)`, unless it changed meanwhile (then reads and tries
   * again); undefined when there is no such key. Throws `StoreLimitError` for a change that
   * makes the key too large for one KV value.
   */
  async update(
    id: string,
    change: (key: StoredApiKey) => StoredApiKey,
    audit: (before: StoredApiKey, after: StoredApiKey) => AuditEntry,
  ): Promise<StoredApiKey | undefined> {
    for (;;) {
      const entry = await this.#kv.get<StoredApiKey>([...API_KEYS, id]);
      if (entry.value === null) return undefined;
      const after = change(entry.value);
      checkValueSize(`The API key "${id}"`, after);
      const commit = this.#kv.atomic().check(entry).set([...API_KEYS, id], after);
      this.#audit.stage(commit, audit(entry.value, after));
      if ((await this.#bump(commit).commit()).ok) return after;
    }
  }

  /** Deletes a key; the key deleted, or undefined when there was none. */
  async delete(
    id: string,
    audit: (before: StoredApiKey) => AuditEntry,
  ): Promise<StoredApiKey | undefined> {
    for (;;) {
      const entry = await this.#kv.get<StoredApiKey>([...API_KEYS, id]);
      if (entry.value === null) return undefined;
      const commit = this.#kv.atomic().check(entry).delete([...API_KEYS, id]);
      this.#audit.stage(commit, audit(entry.value));
      if ((await this.#bump(commit).commit()).ok) return entry.value;
    }
  }

  /**
   * Calls `onChange` whenever any gateway changes the stored keys, and once when the watch
   * starts, so a change made between a first read and the watch is not missed. Calls run one at
   * a time; `stop` resolves once the last has finished, so nothing reads the store after it.
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

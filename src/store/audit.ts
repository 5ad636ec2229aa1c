/**
 * The audit trail of admin writes in Deno KV. Entries are keyed by time, so the newest read
 * first; an entry that records a change is staged in the atomic commit that makes the change
 * (see `config_versions.ts` and `api_keys.ts`), so one never exists without the other.
 * @module
 */
import { AUDIT } from "./keys.ts";
import { checkValueSize, storedSize } from "./size.ts";

/** One admin write, as the trail keeps it. */
export interface AuditEntry {
  /** ISO time. */
  readonly at: string;
  /** The admin key id, `loopback` without keys, or `file` for the YAML file. */
  readonly by: string;
  /** The role the admin key had, for a write through the admin API. */
  readonly role?: "viewer" | "operator" | "admin";
  /** What was done, e.g. `update instance`. */
  readonly action: string;
  /** Why, as the admin who did it said (`X-Change-Reason`). */
  readonly reason?: string;
  /** What it was done to, e.g. `chat/llama3@http://gpu-1:8000/v1/chat/completions`. */
  readonly target: string;
  /** The config version the write made, when it made one. */
  readonly version?: number;
  /** The target before and after; absent when it did not exist. */
  readonly before?: unknown;
  readonly after?: unknown;
}

/**
 * A `before` or `after` larger than this, in serialised bytes, is recorded as its size only, so
 * both fit in one KV value (64 KiB) with the rest of the entry.
 */
const MAX_RECORDED_BYTES = 28_000;

/** Writes and reads the audit trail. */
export class AuditStore {
  readonly #kv: Deno.Kv;
  /** Orders the entries this gateway makes within one millisecond. */
  #sequence = 0;

  constructor(kv: Deno.Kv) {
    this.#kv = kv;
  }

  /**
   * Adds `entry` to an atomic commit that makes the change it records. For the other store
   * modules, which write a change and its entry together. Throws `StoreLimitError` when the
   * entry cannot be stored even with its values recorded as their sizes (a target of many
   * kilobytes).
   */
  stage(commit: Deno.AtomicOperation, entry: AuditEntry): void {
    const value = bounded(entry);
    checkValueSize("The audit entry of this change", value);
    const key = [...AUDIT, Date.parse(entry.at), this.#sequence++, crypto.randomUUID()];
    commit.set(key, value);
  }

  /** Writes `entry` on its own, for a write that changes nothing stored. */
  async append(entry: AuditEntry): Promise<void> {
    const commit = this.#kv.atomic();
    this.stage(commit, entry);
    await commit.commit();
  }

  /** The latest `limit` entries, newest first. */
  async latest(limit: number): Promise<AuditEntry[]> {
    const entries: AuditEntry[] = [];
    for await (
      const item of this.#kv.list<AuditEntry>({ prefix: AUDIT }, { reverse: true, limit })
    ) {
      entries.push(item.value);
    }
    return entries;
  }
}

function bounded(entry: AuditEntry): AuditEntry {
  const { before, after, ...rest } = entry;
  return {
    ...rest,
    ...(before === undefined ? {} : { before: boundedValue(before) }),
    ...(after === undefined ? {} : { after: boundedValue(after) }),
  };
}

function boundedValue(value: unknown): unknown {
  const bytes = storedSize(value);
  return bytes <= MAX_RECORDED_BYTES ? value : { omitted: `${bytes} bytes` };
}

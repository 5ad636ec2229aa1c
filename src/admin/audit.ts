/**
 * The audit trail of admin writes in Deno KV: who did what, when, and what it changed. A config
 * change writes its entry in the same atomic commit as the version, so one never exists
 * without the other.
 * @module
 */
import { AUDIT } from "../store/keys.ts";

/** One admin write. */
export interface AuditEntry {
  /** ISO time. */
  readonly at: string;
  /** The admin key id, `loopback` without keys, or `file` for the YAML file. */
  readonly by: string;
  /** What was done, e.g. `update instance`. */
  readonly action: string;
  /** What it was done to, e.g. `chat/llama3@http://gpu-1:8000/v1/chat/completions`. */
  readonly target: string;
  /** The config version the write made, when it made one. */
  readonly version?: number;
  /** The target before and after; absent when it did not exist. */
  readonly before?: unknown;
  readonly after?: unknown;
}

/** A value larger than this (as JSON) is recorded as its size only, to fit KV's value limit. */
const MAX_VALUE_CHARS = 28_000;

/** Reads and writes the audit trail. */
export class AuditLog {
  readonly #kv: Deno.Kv;
  readonly #now: () => number;
  /** Orders the entries this gateway makes within one millisecond. */
  #sequence = 0;

  constructor(kv: Deno.Kv, options: { readonly now?: () => number } = {}) {
    this.#kv = kv;
    this.#now = options.now ?? Date.now;
  }

  /** An entry for a write made now. */
  entry(fields: Omit<AuditEntry, "at">): AuditEntry {
    return { at: new Date(this.#now()).toISOString(), ...fields };
  }

  /** Adds `entry` to an atomic commit that makes the change it records. */
  stage(commit: Deno.AtomicOperation, entry: AuditEntry): void {
    const key = [...AUDIT, Date.parse(entry.at), this.#sequence++, crypto.randomUUID()];
    commit.set(key, bounded(entry));
  }

  /** Records `entry` on its own. */
  async record(entry: AuditEntry): Promise<void> {
    const commit = this.#kv.atomic();
    this.stage(commit, entry);
    await commit.commit();
  }

  /** The latest entries, newest first. */
  async list(limit: number): Promise<AuditEntry[]> {
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
  const length = JSON.stringify(value).length;
  return length <= MAX_VALUE_CHARS ? value : { omitted: `${length} characters of JSON` };
}

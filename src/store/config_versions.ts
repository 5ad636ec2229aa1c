/**
 * Config versions in Deno KV: the live config with its whole history. Every change is a new version written in
 * one atomic commit together with the pointer to it, and only if the pointer is still the one
 * the writer read: two writers can never both succeed from the same version, and a version once
 * acknowledged is never lost or half-written. Nothing here assumes one process owns the store.
 *
 * A version's text is kept in chunks of at most {@linkcode CHUNK_BYTES} serialised bytes, under
 * KV's 64 KiB value limit whatever the characters (see `size.ts`). A version whose chunks fit
 * in one atomic commit (800 KiB) is written in one, as it always was. A larger one is written
 * in several: the writer first claims the version number under `CONFIG_WRITER`, each commit of
 * chunks checks that the head and the claim are unchanged, and the last commit makes the
 * version live, guarded the same way. Readers never see it before then; a writer that lost the
 * race, or whose claim another writer took over, stops at its next commit, and what it left
 * lies beyond the chunk count of any live version.
 *
 * Only the newest `keep` versions are kept: each commit deletes the versions older than that,
 * their description first, so that a reader either finds a version whole or finds none. A
 * deletion that fails is made by the next commit.
 * @module
 */
import type { VersionCodec } from "../config/sealed_secrets.ts";
import type { AuditEntry, AuditStore } from "./audit.ts";
import { CONFIG_BODY, CONFIG_HEAD, CONFIG_META, CONFIG_WRITER } from "./keys.ts";
import {
  checkValueSize,
  CHUNK_BYTES,
  keySize,
  MAX_COMMIT_BYTES,
  MAX_VALUE_BYTES,
  storedSize,
  textChunks,
} from "./size.ts";

/** Who made a version, when and why. */
export interface VersionInfo {
  /** 1 for the first version, then one more for each. */
  readonly version: number;
  /** ISO time of the commit. */
  readonly at: string;
  /** Who made the change: an admin key id, `file` for the YAML file… */
  readonly by: string;
  /** What the change was, in a few words. */
  readonly action: string;
  /** Why, as the admin who made it said (`X-Change-Reason`). */
  readonly reason?: string;
}

/** A stored version and the config it holds. */
export interface StoredVersion<T> extends VersionInfo {
  readonly config: T;
}

/** The outcome of a commit. */
export type CommitResult =
  | { readonly ok: true; readonly version: number }
  /** Someone else committed first: `current` is the version now live (0 for none). */
  | { readonly ok: false; readonly current: number };

/** Versions kept by default. */
export const KEEP_VERSIONS = 100;

/** Keys deleted per atomic operation while pruning. */
const PRUNE_BATCH = 500;

/** Room kept in each commit for what is not counted exactly, in bytes. */
const COMMIT_MARGIN = 8_192;

/** Versioned configs of type `T` (plain JSON) in a Deno KV database. */
export class ConfigVersionStore<T> {
  readonly #kv: Deno.Kv;
  readonly #audit: AuditStore;
  readonly #now: () => number;
  readonly #keep: number;
  readonly #codec: VersionCodec<T> | undefined;

  /**
   * `audit` writes the entry of a change in the commit of its version; `keep` is how many of
   * the newest versions are kept (0: every one; default {@linkcode KEEP_VERSIONS}); `codec`
   * turns a config into what is stored and back (sealing its secrets).
   */
  constructor(
    kv: Deno.Kv,
    audit: AuditStore,
    options: {
      readonly now?: () => number;
      readonly keep?: number;
      readonly codec?: VersionCodec<T>;
    } = {},
  ) {
    this.#kv = kv;
    this.#audit = audit;
    this.#now = options.now ?? Date.now;
    this.#keep = options.keep ?? KEEP_VERSIONS;
    this.#codec = options.codec;
  }

  /** The live version number; 0 when nothing was ever committed. */
  async current(): Promise<number> {
    return versionOf((await this.#kv.get(CONFIG_HEAD)).value);
  }

  /** The live version, or undefined when nothing was ever committed. */
  async head(): Promise<StoredVersion<T> | undefined> {
    const current = await this.current();
    return current === 0 ? undefined : await this.get(current);
  }

  /** Version `n`, or undefined when there is none. */
  async get(version: number): Promise<StoredVersion<T> | undefined> {
    const stored = await this.#read(version);
    if (stored === undefined || this.#codec === undefined) return stored;
    return { ...stored, config: await this.#codec.decode(stored.config) };
  }

  /** Whether the live version is stored as a commit would store it now (see the codec). */
  async headIsCurrent(): Promise<boolean> {
    const current = await this.current();
    const stored = current === 0 ? undefined : await this.#read(current);
    return stored === undefined || this.#codec === undefined ||
      this.#codec.isCurrent(stored.config);
  }

  /** Version `n` as stored. */
  async #read(version: number): Promise<StoredVersion<T> | undefined> {
    const meta = await this.#kv.get<VersionInfo & { chunks: number }>([...CONFIG_META, version]);
    if (meta.value === null) return undefined;
    const keys = Array.from({ length: meta.value.chunks }, (_, i) => [...CONFIG_BODY, version, i]);
    let text = "";
    // getMany reads at most 10 keys at a time.
    for (let start = 0; start < keys.length; start += 10) {
      for (const entry of await this.#kv.getMany<string[]>(keys.slice(start, start + 10))) {
        if (typeof entry.value !== "string") {
          // Pruned while it was read: its description went first.
          if ((await this.#kv.get([...CONFIG_META, version])).value === null) return undefined;
          throw new Error(`Config version ${version} is incomplete in the store`);
        }
        text += entry.value;
      }
    }
    const { chunks: _, ...info } = meta.value;
    return { ...info, config: JSON.parse(text) as T };
  }

  /** Every version's info, newest first. */
  async history(): Promise<VersionInfo[]> {
    const versions: VersionInfo[] = [];
    for await (
      const entry of this.#kv.list<VersionInfo & { chunks: number }>({ prefix: CONFIG_META }, {
        reverse: true,
      })
    ) {
      const { chunks: _, ...info } = entry.value;
      versions.push(info);
    }
    return versions;
  }

  /**
   * Commits `config` as the next version, if version `expected` (0 for none) is still live.
   * Resolves once the version is durably stored.
   */
  async commit(
    config: T,
    change: {
      readonly expected: number;
      readonly by: string;
      readonly action: string;
      readonly reason?: string | undefined;
      /** The audit entry of the change, given the version it makes: stored in the same commit. */
      readonly audit?: (version: number) => AuditEntry;
    },
  ): Promise<CommitResult> {
    const head = await this.#kv.get(CONFIG_HEAD);
    const current = versionOf(head.value);
    if (current !== change.expected) return { ok: false, current };
    const version = current + 1;
    const stored = this.#codec ? await this.#codec.encode(config) : config;
    const chunks = textChunks(JSON.stringify(stored), CHUNK_BYTES);
    const info: VersionInfo = {
      version,
      at: new Date(this.#now()).toISOString(),
      by: change.by,
      action: change.action,
      ...(change.reason ? { reason: change.reason } : {}),
    };
    const meta = { ...info, chunks: chunks.length };
    checkValueSize(`The description of config version ${version}`, meta);
    const writes = chunks.map((chunk, i) => ({ key: [...CONFIG_BODY, version, i], value: chunk }));
    // The commit that makes the version live, with its audit entry staged first: an entry that
    // cannot be stored refuses the change before any chunk is written.
    const commit = this.#kv.atomic();
    if (change.audit) this.#audit.stage(commit, change.audit(version));
    const bytes = writes.reduce((sum, write) => sum + writeSize(write), 0);
    const finalBytes = storedSize(meta) + MAX_VALUE_BYTES + 2 * COMMIT_MARGIN;
    let guards: Deno.AtomicCheck[] = [head];
    const claim = [...CONFIG_WRITER, version];
    if (bytes + finalBytes > MAX_COMMIT_BYTES) {
      const claimed = await this.#claim(head, claim);
      if (!claimed) return { ok: false, current: await this.current() };
      guards = [head, claimed];
      for (const batch of batches(writes, MAX_COMMIT_BYTES - COMMIT_MARGIN)) {
        const part = this.#kv.atomic();
        for (const guard of guards) part.check(guard);
        for (const write of batch) part.set(write.key, write.value);
        if (!(await part.commit()).ok) return { ok: false, current: await this.current() };
      }
    } else {
      for (const write of writes) commit.set(write.key, write.value);
    }
    for (const guard of guards) commit.check(guard);
    // A claim left by a writer that stopped midway goes with the version it claimed.
    commit.delete(claim);
    commit.set([...CONFIG_META, version], meta).set(CONFIG_HEAD, { version });
    const result = await commit.commit();
    if (!result.ok) return { ok: false, current: await this.current() };
    // The version is stored whatever pruning meets; what it leaves, the next commit deletes.
    await this.#prune(version).catch(() => {});
    return { ok: true, version };
  }

  /** Deletes the versions older than the newest `keep` of those up to `newest`. */
  async #prune(newest: number): Promise<void> {
    const last = newest - this.#keep;
    if (this.#keep === 0 || last < 1) return;
    const metas: Deno.KvKey[] = [];
    const bodies: Deno.KvKey[] = [];
    const doomed = this.#kv.list<{ readonly chunks: number }>({
      prefix: CONFIG_META,
      end: [...CONFIG_META, last + 1],
    });
    for await (const entry of doomed) {
      const version = entry.key.at(-1);
      metas.push(entry.key);
      for (let chunk = 0; chunk < entry.value.chunks; chunk++) {
        bodies.push([...CONFIG_BODY, version as number, chunk]);
      }
    }
    for (const keys of [metas, bodies]) {
      for (let start = 0; start < keys.length; start += PRUNE_BATCH) {
        const batch = this.#kv.atomic();
        for (const key of keys.slice(start, start + PRUNE_BATCH)) batch.delete(key);
        await batch.commit();
      }
    }
  }

  /**
   * Claims the version after `head` for a write in several commits, taking over any earlier
   * claim (its writer stops at its next commit); the claim to check, or undefined when the head
   * moved on.
   */
  async #claim(
    head: Deno.KvEntryMaybe<unknown>,
    key: Deno.KvKey,
  ): Promise<Deno.AtomicCheck | undefined> {
    for (;;) {
      const earlier = await this.#kv.get(key);
      const result = await this.#kv.atomic().check(head).check(earlier)
        .set(key, crypto.randomUUID()).commit();
      if (result.ok) return { key, versionstamp: result.versionstamp };
      if ((await this.#kv.get(CONFIG_HEAD)).versionstamp !== head.versionstamp) return undefined;
    }
  }

  /**
   * Calls `onChange` with the live version number whenever it changes, here or elsewhere. A KV
   * watch does not see what another process writes to the same file, so the head is also read
   * every `pollInterval` ms: a change made by a gateway sharing the file arrives within it.
   */
  watch(
    onChange: (version: number) => void,
    options: { readonly pollInterval?: number } = {},
  ): { stop(): void } {
    let last: number | undefined;
    let stopped = false;
    const seen = (value: unknown) => {
      if (stopped) return;
      const version = versionOf(value);
      if (version !== last) {
        last = version;
        onChange(version);
      }
    };
    const reader = this.#kv.watch([CONFIG_HEAD]).getReader();
    (async () => {
      for (;;) {
        const { done, value } = await reader.read().catch(() => ({ done: true, value: undefined }));
        if (done || value === undefined) return;
        seen(value[0]?.value);
      }
    })();
    let polling = false;
    const poll = setInterval(() => {
      if (polling) return;
      polling = true;
      this.#kv.get(CONFIG_HEAD).then((entry) => seen(entry.value), () => {}).finally(() => {
        polling = false;
      });
    }, options.pollInterval ?? 1_000);
    Deno.unrefTimer(poll);
    return {
      stop: () => {
        stopped = true;
        clearInterval(poll);
        void reader.cancel().catch(() => {});
      },
    };
  }
}

interface Write {
  readonly key: Deno.KvKey;
  readonly value: string;
}

function writeSize(write: Write): number {
  return keySize(write.key) + storedSize(write.value);
}

/** `writes` in runs of at most `maxBytes` each. */
function batches(writes: readonly Write[], maxBytes: number): Write[][] {
  const runs: Write[][] = [];
  let run: Write[] = [];
  let bytes = 0;
  for (const write of writes) {
    const size = writeSize(write);
    if (run.length > 0 && bytes + size > maxBytes) {
      runs.push(run);
      run = [];
      bytes = 0;
    }
    run.push(write);
    bytes += size;
  }
  if (run.length > 0) runs.push(run);
  return runs;
}

function versionOf(head: unknown): number {
  if (typeof head !== "object" || head === null) return 0;
  const version = (head as { version?: unknown }).version;
  return typeof version === "number" && Number.isSafeInteger(version) && version > 0 ? version : 0;
}

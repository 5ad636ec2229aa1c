/**
 * The `model:` section as it lives at runtime: versioned in Deno KV, changed through the admin
 * API, merged with the YAML file at start, and applied to the gateway the moment it changes —
 * whichever gateway sharing the store made the change.
 *
 * Each version holds the section as written (before defaults, so a later default change
 * applies) and the file's section it was built from, which tells at the next start whether the
 * file changed since and what to merge.
 * @module
 */
import { deepEqual, type JsonObject } from "../lib/json.ts";
import { modelEnvReferences } from "./env_references.ts";
import { type ConfigProblem, formatProblem, validateModel } from "./load.ts";
import { keepStoredSecrets } from "./secrets.ts";
import { mergeFileChanges, type MergeNote } from "./merge.ts";
import type { ModelConfig } from "./schema.ts";
import type { AuditEntry, ConfigVersionStore, StoredVersion, VersionInfo } from "../store/mod.ts";

/** What one config version holds. */
export interface StoredConfig {
  /** The live `model:` section, as written. */
  readonly model: JsonObject;
  /** The file's `model:` section this version was built from. */
  readonly file: JsonObject;
}

/** A change to the live config, computed from the current section. */
export interface ConfigEdit {
  readonly model: JsonObject;
  /** For the audit trail: what changed, e.g. `chat/llama3@http://gpu-1:8000`. */
  readonly target: string;
  readonly before?: unknown;
  readonly after?: unknown;
}

/** Who makes a change, and what it is, for the version and the audit trail. */
export interface ChangeAuthor {
  readonly by: string;
  /** The admin role, for a change through the admin API. */
  readonly role?: AuditEntry["role"];
  readonly action: string;
  /** Why, as the admin said. */
  readonly reason?: string | undefined;
}

/** What {@linkcode LiveConfig.change} answers. */
export type ChangeResult =
  | { readonly kind: "changed"; readonly version: number; readonly edit: ConfigEdit }
  /** `If-Match` named another version than the live one. */
  | { readonly kind: "stale"; readonly current: number }
  /** The changed section does not validate; nothing was stored. */
  | { readonly kind: "invalid"; readonly problems: readonly ConfigProblem[] }
  /** Other gateways kept committing first; nothing was stored. */
  | { readonly kind: "busy" };

/** A config that cannot be started from: the merge made one that does not validate. */
export class LiveConfigError extends Error {
  readonly problems: readonly ConfigProblem[];

  constructor(message: string, problems: readonly ConfigProblem[]) {
    super(`${message}\n${problems.map((problem) => `  ${formatProblem(problem)}`).join("\n")}`);
    this.name = "LiveConfigError";
    this.problems = problems;
  }
}

/** The version a section installed by `apply` is. */
export interface AppliedVersion {
  readonly version: number;
  /**
   * The file's `model:` section the version was built from: what of the section an operator
   * wrote in a config file rather than changed through the admin API.
   */
  readonly file: JsonObject;
}

/** Options for {@linkcode LiveConfig.open}. */
export interface LiveConfigOptions {
  /** Installs a validated section: called at start and after every change. */
  readonly apply: (model: ModelConfig, applied: AppliedVersion) => void;
  /** Makes a change's audit entry, which the store writes in the commit of the change. */
  readonly audit: { entry(fields: Omit<AuditEntry, "at">): AuditEntry };
  /** Tells the operator what the start and later changes did. @default console.log */
  readonly log?: (message: string) => void;
  /** Where the file came from, for the first version's description. */
  readonly source?: string;
  /** A changed file replaces the runtime changes rather than being merged with them. */
  readonly fileWins?: boolean;
  /**
   * Called once a version this gateway stored is applied here, and awaited before the change
   * answers: with several workers, until every worker has applied it too. @default none
   */
  readonly applied?: (version: number) => Promise<void>;
}

/** What {@linkcode LiveConfig.reloadFile} answers. */
export type ReloadResult =
  | { readonly kind: "unchanged"; readonly version: number }
  | {
    readonly kind: "changed";
    readonly version: number;
    readonly action: string;
    readonly notes: readonly MergeNote[];
  }
  /** The new section (merged, or the file's) does not validate; nothing was stored. */
  | { readonly kind: "invalid"; readonly problems: readonly ConfigProblem[] }
  | { readonly kind: "busy" };

/** Commits that lost a race to another writer are retried this often before giving up. */
const RACE_RETRIES = 10;

/** The live config of one gateway, kept in step with the store. */
export class LiveConfig {
  readonly #store: ConfigVersionStore<StoredConfig>;
  readonly #options: LiveConfigOptions;
  #current: StoredVersion<StoredConfig>;
  #watcher: { stop(): void } | undefined;
  /** The change under way here: this gateway's changes are made one at a time. */
  #changing: Promise<unknown> = Promise.resolve();

  private constructor(
    store: ConfigVersionStore<StoredConfig>,
    current: StoredVersion<StoredConfig>,
    options: LiveConfigOptions,
  ) {
    this.#store = store;
    this.#current = current;
    this.#options = options;
  }

  /**
   * Loads the live version from the store, merging in what changed in the file since it was
   * built (see `merge.ts` for the rule), or stores the file as version 1. Applies the result.
   * Throws {@linkcode LiveConfigError} when the stored or merged section does not validate.
   */
  static async open(
    store: ConfigVersionStore<StoredConfig>,
    file: JsonObject,
    options: LiveConfigOptions,
  ): Promise<LiveConfig> {
    const log = options.log ?? console.log;
    for (let attempt = 0; attempt <= RACE_RETRIES; attempt++) {
      const head = await store.head();
      if (head && deepEqual(head.config.file, file)) {
        const model = parsed(head.config.model, `Config version ${head.version} is not valid`);
        const live = new LiveConfig(store, head, options);
        options.apply(model, { version: head.version, file: head.config.file });
        log(`Config version ${head.version} (${head.action}, by ${head.by} at ${head.at})`);
        return live;
      }
      let model = file;
      let notes: readonly MergeNote[] = [];
      let action = `loaded from ${options.source ?? "the file"}`;
      if (head) {
        ({ model, notes, action } = fileChange(head, file, options.fileWins ?? false));
      }
      const config = parsed(model, "The merged config is not valid");
      const stored = { model, file };
      const expected = head?.version ?? 0;
      const entry = options.audit.entry({
        by: "file",
        action,
        target: "model",
        ...(head ? { before: head.config.model } : {}),
        after: model,
      });
      const result = await store.commit(stored, {
        expected,
        by: "file",
        action,
        audit: (version) => ({ ...entry, version }),
      });
      if (!result.ok) continue;
      const version = await store.get(result.version);
      if (!version) continue;
      const live = new LiveConfig(store, version, options);
      options.apply(config, { version: result.version, file });
      log(`Config version ${result.version}: ${action}`);
      for (const note of notes) log(`  merge: ${note.path}: ${note.message}`);
      return live;
    }
    throw new Error("Could not store the config: other gateways kept changing it");
  }

  /** The live version. */
  get version(): number {
    return this.#current.version;
  }

  /** The live `model:` section, as written. */
  get model(): JsonObject {
    return this.#current.config.model;
  }

  /** Who made the live version, when and why. */
  get info(): VersionInfo {
    const { config: _, ...info } = this.#current;
    return info;
  }

  /** The store behind it, for reading history. */
  get store(): ConfigVersionStore<StoredConfig> {
    return this.#store;
  }

  /**
   * Makes a change: `edit` computes the new section from the live one (throwing to refuse),
   * which is validated, stored as a new version with its audit entry, and applied. It may name
   * only environment variables the live section or the file's already name, so that a change
   * cannot send any other variable of the gateway's environment to a backend. With
   * `expected` a version number, the change is made only if that version is still live;
   * with `any`, a change that lost a race to another gateway is recomputed and retried.
   */
  change(
    expected: number | "any",
    who: ChangeAuthor,
    edit: (model: JsonObject) => ConfigEdit,
  ): Promise<ChangeResult> {
    const result = this.#changing.then(() => this.#change(expected, who, edit));
    this.#changing = result.catch(() => {});
    return result;
  }

  async #change(
    expected: number | "any",
    who: ChangeAuthor,
    edit: (model: JsonObject) => ConfigEdit,
  ): Promise<ChangeResult> {
    for (let attempt = 0; attempt <= RACE_RETRIES; attempt++) {
      const head = await this.#store.head();
      const current = head?.version ?? 0;
      if (!head || (expected !== "any" && expected !== current)) return { kind: "stale", current };
      const edited = edit(head.config.model);
      const kept = keepStoredSecrets(edited.model, head.config.model);
      if (kept.problems.length > 0) return { kind: "invalid", problems: kept.problems };
      const made = { ...edited, model: kept.model };
      const unnamed = unnamedReferences(made.model, head.config);
      if (unnamed.length > 0) return { kind: "invalid", problems: unnamed };
      const validation = validateModel(made.model);
      if (!validation.ok) return { kind: "invalid", problems: validation.problems };
      const entry = this.#options.audit.entry({
        by: who.by,
        ...(who.role ? { role: who.role } : {}),
        action: who.action,
        ...(who.reason ? { reason: who.reason } : {}),
        target: made.target,
        ...(made.before === undefined ? {} : { before: made.before }),
        ...(made.after === undefined ? {} : { after: made.after }),
      });
      const result = await this.#store.commit({ model: made.model, file: head.config.file }, {
        expected: current,
        by: who.by,
        action: `${who.action} ${made.target}`,
        reason: who.reason,
        audit: (version) => ({ ...entry, version }),
      });
      if (result.ok) {
        const stored = await this.#store.get(result.version);
        if (stored) this.#install(stored, validation.model);
        await this.#options.applied?.(result.version);
        return { kind: "changed", version: result.version, edit: made };
      }
      if (expected !== "any") return { kind: "stale", current: result.current };
    }
    return { kind: "busy" };
  }

  /**
   * Stores the live section again as a new version, unchanged: its secrets are then sealed
   * with the store's current key (after a key was given, or rotated).
   */
  reseal(): Promise<ChangeResult> {
    return this.change("any", { by: "gateway", action: "sealed the secrets of" }, (model) => ({
      model,
      target: "model",
    }));
  }

  /**
   * Takes in the file's `model:` section again (on SIGHUP): unchanged since the live version was
   * built, nothing happens; changed, it is merged with the runtime changes made since (or, with
   * `fileWins`, replaces them), validated, stored as a new version and applied, as a change made
   * through the admin API is.
   */
  reloadFile(file: JsonObject): Promise<ReloadResult> {
    const result = this.#changing.then(() => this.#reloadFile(file));
    this.#changing = result.catch(() => {});
    return result;
  }

  async #reloadFile(file: JsonObject): Promise<ReloadResult> {
    for (let attempt = 0; attempt <= RACE_RETRIES; attempt++) {
      const head = await this.#store.head();
      if (!head) return { kind: "busy" };
      if (deepEqual(head.config.file, file)) return { kind: "unchanged", version: head.version };
      const { model, notes, action } = fileChange(head, file, this.#options.fileWins ?? false);
      const validation = validateModel(model);
      if (!validation.ok) return { kind: "invalid", problems: validation.problems };
      const entry = this.#options.audit.entry({
        by: "file",
        action,
        target: "model",
        before: head.config.model,
        after: model,
      });
      const result = await this.#store.commit({ model, file }, {
        expected: head.version,
        by: "file",
        action,
        audit: (version) => ({ ...entry, version }),
      });
      if (!result.ok) continue;
      const stored = await this.#store.get(result.version);
      if (stored) this.#install(stored, validation.model);
      await this.#options.applied?.(result.version);
      return { kind: "changed", version: result.version, action, notes };
    }
    return { kind: "busy" };
  }

  /** Follows changes other gateways make to the store, applying each new version. */
  watch(): void {
    this.#watcher ??= this.#store.watch((version) => {
      if (version > this.#current.version) void this.catchUp(version);
    });
  }

  /** Stops following the store. */
  stop(): void {
    this.#watcher?.stop();
    this.#watcher = undefined;
  }

  /**
   * Applies version `version` from the store, when it is later than the live one; what goes
   * wrong is logged, not thrown.
   */
  async catchUp(version: number): Promise<void> {
    const log = this.#options.log ?? console.log;
    try {
      const stored = await this.#store.get(version);
      if (!stored || stored.version <= this.#current.version) return;
      const validation = validateModel(stored.config.model);
      if (!validation.ok) {
        log(`Config version ${version} is not valid here and is not applied`);
        return;
      }
      this.#install(stored, validation.model);
      log(`Config version ${version} from the store: ${stored.action} (by ${stored.by})`);
    } catch (error) {
      log(`Could not read config version ${version}: ${(error as Error).message}`);
    }
  }

  #install(stored: StoredVersion<StoredConfig>, model: ModelConfig): void {
    if (stored.version <= this.#current.version) return;
    this.#current = stored;
    this.#options.apply(model, { version: stored.version, file: stored.config.file });
  }
}

/**
 * The live section once the file changed from what `head` was built from: merged with the
 * runtime changes made since, or the file's as it is when the file wins.
 */
function fileChange(
  head: StoredVersion<StoredConfig>,
  file: JsonObject,
  fileWins: boolean,
): { model: JsonObject; notes: readonly MergeNote[]; action: string } {
  if (fileWins) {
    return {
      model: file,
      notes: [],
      action: `file changed; it replaces the changes made since version ${head.version}`,
    };
  }
  const { merged, notes } = mergeFileChanges(head.config.file, file, head.config.model);
  return {
    model: merged,
    notes,
    action: `file changed; merged with the changes made since version ${head.version}`,
  };
}

/**
 * A problem for each environment variable `model` names that neither the live section nor the
 * file's names.
 */
function unnamedReferences(model: JsonObject, live: StoredConfig): ConfigProblem[] {
  const named = new Set(
    [...modelEnvReferences(live.model), ...modelEnvReferences(live.file)].map(({ name }) => name),
  );
  return modelEnvReferences(model).filter(({ name }) => !named.has(name)).map(({ path, name }) => ({
    path,
    message: `Environment variable ${name} is named neither by the config file nor by the live ` +
      "config; a change through the admin API may name only those",
  }));
}

function parsed(model: JsonObject, message: string): ModelConfig {
  const validation = validateModel(model);
  if (!validation.ok) throw new LiveConfigError(message, validation.problems);
  return validation.model;
}

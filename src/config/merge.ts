/**
 * Bringing edits of the config file into a runtime config that the admin API has changed since
 * it was built: a three-way merge of the `model:` section, run at start.
 *
 * - `base`: the file's model section the runtime config was last built from;
 * - `file`: the file's model section as it is now;
 * - `runtime`: the live config, `base` plus the changes made through the admin API.
 *
 * All three are the config as written, before defaults. The rules:
 *
 * **Instances** (`services.<type>.instances`) are matched by identity, `name@base-url+path`
 * (`#2`, `#3`… for repeats within a service), never by position. For each identity:
 *
 * - in the file and at runtime: if the runtime's instance is still the base's, the file's is
 *   taken (whether the file changed it or not). If the runtime changed it, the runtime's whole
 *   instance wins, even where the file changed other fields of it. An instance added on both
 *   sides (absent from the base) is the runtime's.
 * - in the file only: if it was in the base, it was removed at runtime and stays removed;
 *   otherwise it was added to the file and is added.
 * - at runtime only: if it was in the base, it was removed from the file and is removed, even
 *   if the runtime had changed it; otherwise it was added at runtime and is kept.
 * - order: the file's order for the instances coming from the file, then the instances added
 *   at runtime, in the runtime's order.
 *
 * **Every other key**, at every level of nesting: if the runtime's value is still the base's,
 * the file's value is taken (absent stays absent); otherwise the runtime's value wins. Objects
 * are merged key by key; arrays other than instance lists are single values. So a service
 * added at runtime is kept, and a service removed from the file keeps only what the runtime
 * added to it (its runtime-added instances, settings changed at runtime).
 *
 * Each decision that is not "nothing changed" gives a {@linkcode MergeNote} for the log, such
 * as `services.chat.instances[llama3@http://gpu-1:8000]`: `changed in the file and at runtime;
 * runtime kept`. A change made the same way on both sides needs no decision and gives no note.
 *
 * The merge is pure: inputs are never modified, the result shares no objects with them, and the
 * same inputs give the same result and notes.
 * @module
 */
import {
  childPath,
  instancePath,
  instancesByIdentity,
  isInstanceList,
} from "./instance_identity.ts";
import { deepEqual, isJsonObject, type JsonObject } from "../lib/json.ts";

/** One decision of {@linkcode mergeFileChanges} worth logging. */
export interface MergeNote {
  /** Where: `load-balance.type`, `services.chat.instances[llama3@http://gpu-1:8000]`. */
  readonly path: string;
  /** What happened there, e.g. `added to the file`, `changed at runtime, runtime kept`. */
  readonly message: string;
}

/** What {@linkcode mergeFileChanges} returns. */
export interface MergeResult {
  /** The new runtime config, in the input form (before defaults). */
  readonly merged: JsonObject;
  /** One note per decision that is not "nothing changed", in config order. */
  readonly notes: readonly MergeNote[];
}

/**
 * Three-way merge at start: `base` = the file's model section the runtime config was last built
 * from, `file` = the file as it is now, `runtime` = the live config (base plus changes made
 * through the admin API). The rules are in this module's documentation.
 */
export function mergeFileChanges(
  base: JsonObject,
  file: JsonObject,
  runtime: JsonObject,
): MergeResult {
  const notes: MergeNote[] = [];
  const merged = mergeObjects({ keys: [], path: "", notes }, base, file, runtime) ?? {};
  // Values are taken whole from the inputs; a copy keeps later edits of the result off them.
  return { merged: structuredClone(merged), notes };
}

/** Where the merge is, and where its notes go. */
interface At {
  /** The keys from the root, to recognise instance lists. */
  readonly keys: readonly string[];
  /** The display path for notes. */
  readonly path: string;
  readonly notes: MergeNote[];
}

/** `undefined` stands for "absent" everywhere below, as JSON has no undefined. */
function mergeValue(at: At, base: unknown, file: unknown, runtime: unknown): unknown {
  const sides = [base, file, runtime];
  if (isInstanceList(at.keys) && sides.every((side) => side === undefined || Array.isArray(side))) {
    return mergeInstances(at, asList(base), asList(file), asList(runtime));
  }
  const present = sides.filter((side) => side !== undefined);
  const runtimeChanged = !deepEqual(runtime, base);
  // Untouched at runtime, an object is still walked when both sides have it, for notes at the
  // keys the file changed rather than one for the whole object. Changed at runtime, it is
  // walked whenever two sides have it: a service removed from the file must still keep what
  // was added to it at runtime. One side alone is an object added or removed as a whole.
  const walk = present.every(isJsonObject) &&
    (runtimeChanged ? present.length >= 2 : file !== undefined && runtime !== undefined);
  if (walk) return mergeObjects(at, asObject(base), asObject(file), asObject(runtime));
  const decision = decide(base, file, runtime);
  if (decision.message !== undefined) at.notes.push({ path: at.path, message: decision.message });
  return decision.value;
}

function mergeObjects(
  at: At,
  base: JsonObject | undefined,
  file: JsonObject | undefined,
  runtime: JsonObject | undefined,
): JsonObject | undefined {
  // The file's key order first, so the merged config reads like the file. Keys only the base
  // has were removed on both sides, which leaves nothing to decide.
  const keys = [...new Set([...Object.keys(file ?? {}), ...Object.keys(runtime ?? {})])];
  const merged: JsonObject = {};
  for (const key of keys) {
    const child = { keys: [...at.keys, key], path: childPath(at.path, key), notes: at.notes };
    const value = mergeValue(child, base?.[key], file?.[key], runtime?.[key]);
    if (value !== undefined) merged[key] = value;
  }
  // An object left empty because one side removed it is gone, not an empty `{}`.
  if (Object.keys(merged).length === 0 && (file === undefined || runtime === undefined)) {
    return undefined;
  }
  return merged;
}

function mergeInstances(
  at: At,
  base: readonly unknown[] | undefined,
  file: readonly unknown[] | undefined,
  runtime: readonly unknown[] | undefined,
): unknown[] | undefined {
  const baseById = instancesByIdentity(base ?? []);
  const fileById = instancesByIdentity(file ?? []);
  const runtimeById = instancesByIdentity(runtime ?? []);
  const merged: unknown[] = [];
  const note = (identity: string, message: string) =>
    at.notes.push({ path: instancePath(at.path, identity), message });
  for (const [identity, fileInstance] of fileById) {
    // Instances are never undefined, so `get` tells presence too.
    const decision = decide(baseById.get(identity), fileInstance, runtimeById.get(identity));
    if (decision.value !== undefined) merged.push(decision.value);
    if (decision.message !== undefined) note(identity, decision.message);
  }
  for (const [identity, runtimeInstance] of runtimeById) {
    if (fileById.has(identity)) continue;
    const baseInstance = baseById.get(identity);
    if (baseInstance === undefined) {
      merged.push(runtimeInstance);
      note(identity, "added at runtime, kept");
    } else {
      // Unlike other keys, removing an instance from the file beats changing it at runtime:
      // the operator took that backend out of the file, and no runtime weight or header
      // change should keep traffic going to it.
      note(
        identity,
        deepEqual(runtimeInstance, baseInstance)
          ? "removed from the file"
          : "removed from the file; its changes at runtime are dropped",
      );
    }
  }
  // As with objects: an empty list stays only where the file writes one.
  return merged.length === 0 && file === undefined ? undefined : merged;
}

interface Decision {
  /** The merged value, `undefined` for absent. */
  readonly value: unknown;
  /** Why, when something changed. */
  readonly message?: string;
}

/** The rule for a single value (an instance, or a key not walked into). */
function decide(base: unknown, file: unknown, runtime: unknown): Decision {
  if (deepEqual(runtime, base)) {
    return deepEqual(file, base) ? { value: file } : { value: file, message: inFile(base, file) };
  }
  // The same change on both sides leaves nothing to decide.
  if (deepEqual(file, runtime)) return { value: runtime };
  const atRuntime = change(base, runtime);
  if (deepEqual(file, base)) {
    const outcome = atRuntime === "removed"
      ? "stays removed"
      : atRuntime === "added"
      ? "kept"
      : "runtime kept";
    return { value: runtime, message: `${atRuntime} at runtime, ${outcome}` };
  }
  const inBoth = change(base, file) === atRuntime
    ? `${atRuntime} in the file and at runtime`
    : `${inFile(base, file)} and ${atRuntime} at runtime`;
  const outcome = atRuntime === "removed" ? "stays removed" : "runtime kept";
  return { value: runtime, message: `${inBoth}; ${outcome}` };
}

/** How the file changed a value: `added to the file`, `removed from the file`… */
function inFile(base: unknown, file: unknown): string {
  const verb = change(base, file);
  return verb === "added"
    ? "added to the file"
    : verb === "removed"
    ? "removed from the file"
    : "changed in the file";
}

function change(from: unknown, to: unknown): "added" | "removed" | "changed" {
  return from === undefined ? "added" : to === undefined ? "removed" : "changed";
}

function asList(value: unknown): readonly unknown[] | undefined {
  return Array.isArray(value) ? value : undefined;
}

function asObject(value: unknown): JsonObject | undefined {
  return isJsonObject(value) ? value : undefined;
}

/**
 * What changed between two versions of the `model:` section, for the admin API's version
 * history and for logs: a list of changes with paths an operator can read.
 *
 * Instances are matched by identity (`name@base-url+path`, `#2`… for repeats), so removing one
 * instance shows as that removal, not as every later instance changing. Reordering instances
 * is not reported. A whole object added or removed (an instance, a service, a section) is one
 * change carrying the object; arrays other than instance lists are compared as single values.
 * Secrets are redacted in the values (see `secrets.ts`): a changed key shows as changed.
 * @module
 */
import {
  childPath,
  instancePath,
  instancesByIdentity,
  isInstanceList,
} from "./instance_identity.ts";
import { deepEqual, isJsonObject, type JsonObject } from "../lib/json.ts";
import { redactSecretsAt } from "./secrets.ts";

/** One difference found by {@linkcode diffConfigs}. */
export interface ConfigChange {
  /** Where: `load-balance.type`, `services.chat.instances[llama3@http://gpu-1:8000].weight`. */
  readonly path: string;
  /** `added` carries `after`, `removed` carries `before`, `changed` carries both. */
  readonly op: "added" | "removed" | "changed";
  /** The value before, absent for `added`. */
  readonly before?: unknown;
  /** The value after, absent for `removed`. */
  readonly after?: unknown;
}

/**
 * What changed from `before` to `after`, instances matched by identity, paths like
 * `services.chat.instances[llama3@http://gpu-1:8000].weight`, `load-balance.type`. Sorted by
 * path; values are copies, so the changes share no objects with the inputs.
 */
export function diffConfigs(before: JsonObject, after: JsonObject): ConfigChange[] {
  const changes: ConfigChange[] = [];
  diffValue({ keys: [], path: "" }, before, after, changes);
  // Plain code-unit order rather than localeCompare, so the order never depends on the locale.
  return changes.sort((a, b) => a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
}

interface At {
  /** The keys from the root, to recognise instance lists. */
  readonly keys: readonly string[];
  readonly path: string;
}

/** `undefined` stands for "absent", as JSON has no undefined. */
function diffValue(at: At, before: unknown, after: unknown, changes: ConfigChange[]): void {
  if (deepEqual(before, after)) return;
  const shown = (value: unknown) => structuredClone(redactSecretsAt(at.keys, value));
  if (before === undefined) {
    changes.push({ path: at.path, op: "added", after: shown(after) });
  } else if (after === undefined) {
    changes.push({ path: at.path, op: "removed", before: shown(before) });
  } else if (isInstanceList(at.keys) && Array.isArray(before) && Array.isArray(after)) {
    diffInstances(at, before, after, changes);
  } else if (isJsonObject(before) && isJsonObject(after)) {
    for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
      const child = { keys: [...at.keys, key], path: childPath(at.path, key) };
      diffValue(child, before[key], after[key], changes);
    }
  } else {
    changes.push({ path: at.path, op: "changed", before: shown(before), after: shown(after) });
  }
}

function diffInstances(
  at: At,
  before: readonly unknown[],
  after: readonly unknown[],
  changes: ConfigChange[],
): void {
  const was = instancesByIdentity(before);
  const is = instancesByIdentity(after);
  for (const identity of new Set([...was.keys(), ...is.keys()])) {
    // The identity is one segment of `keys`, so nothing below an instance counts as a list.
    const child = {
      keys: [...at.keys, identity],
      path: instancePath(at.path, identity),
    };
    diffValue(child, was.get(identity), is.get(identity), changes);
  }
}

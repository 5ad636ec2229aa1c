/**
 * How an instance is recognised across versions of the `model:` section, for config merging
 * and diffing.
 *
 * An instance is known by `name@base-url+path` rather than by its position, so inserting,
 * removing or reordering instances does not make every later one look changed. The identity is
 * taken from the config as written (before defaults): an absent `path` adds nothing, unlike the
 * registry's upstream ids, which spell out the adapter's default path.
 * @module
 */

import { isJsonObject } from "../lib/json.ts";

/**
 * One instance's identity, `name@base-url+path`, trailing slashes dropped from `base-url` (a
 * written `http://gpu-1:8000/` is the same backend). Without the `#2` that tells duplicates
 * apart: use {@linkcode instanceIdentities} for a whole list. Fields that are missing or not
 * strings count as empty, so a config not yet validated still gets an identity.
 */
export function instanceIdentity(instance: unknown): string {
  const fields = isJsonObject(instance) ? instance : {};
  const text = (value: unknown) => typeof value === "string" ? value : "";
  const baseUrl = text(fields["base-url"]).replace(/\/+$/, "");
  return `${text(fields.name)}@${baseUrl}${text(fields.path)}`;
}

/**
 * The identities of one service's instances, index-aligned with `instances`: the second
 * instance with the same identity gets `#2`, the third `#3`, and so on, so every identity in a
 * service is unique.
 */
export function instanceIdentities(instances: readonly unknown[]): string[] {
  return numberDuplicates(instances.map(instanceIdentity));
}

/** `keys` with `#2`, `#3`… added to the second, third… copy of a key, so each is unique. */
export function numberDuplicates(keys: readonly string[]): string[] {
  const seen = new Map<string, number>();
  return keys.map((key) => {
    const count = (seen.get(key) ?? 0) + 1;
    seen.set(key, count);
    return count === 1 ? key : `${key}#${count}`;
  });
}

/**
 * One service's instances by identity (see {@linkcode instanceIdentities}), in list order, for
 * matching instances across two versions of a config.
 */
export function instancesByIdentity(instances: readonly unknown[]): Map<string, unknown> {
  const identities = instanceIdentities(instances);
  return new Map(identities.map((identity, index) => [identity, instances[index]]));
}

/**
 * Whether the value at `keys` (from the root of the `model:` section) is an instance list,
 * `services.<type>.instances`: the one array matched element by element, by identity.
 */
export function isInstanceList(keys: readonly string[]): boolean {
  return keys.length === 3 && keys[0] === "services" && keys[2] === "instances";
}

/** The display path of `key` under `parent` (`""` for the root): `load-balance.type`. */
export function childPath(parent: string, key: string): string {
  return parent === "" ? key : `${parent}.${key}`;
}

/** The display path of one instance in the list at `list`: `services.chat.instances[id]`. */
export function instancePath(list: string, identity: string): string {
  return `${list}[${identity}]`;
}

/**
 * Changes to the `model:` section as the admin APIs make them: add, update and remove an
 * instance, change a service's settings. Each takes the live section as written and returns
 * the new one with what changed, for the audit trail; refusals are {@linkcode GatewayError}s.
 *
 * An instance is named by its id as the status endpoints show it (`name@base-url+path`), by
 * JAiRouter's `instance-id` or `name@base-url`, or by its identity in the config as written; a
 * name that fits more than one instance is refused rather than guessed.
 * @module
 */
import { isJsonObject, type JsonObject } from "../lib/json.ts";
import { instanceIdentities, instanceIdentity } from "../config/instance_identity.ts";
import type { ConfigEdit } from "../config/live_config.ts";
import { validateModel } from "../config/load.ts";
import { GatewayError } from "../errors.ts";
import { instanceIds, instanceKeys } from "../registry/snapshot.ts";
import type { ServiceType } from "../services.ts";
import { mergePatch } from "./merge_patch.ts";

/** An instance of a service as the admin API shows it. */
export interface InstanceEntry {
  /** Its id, as the status endpoints show it. */
  readonly id: string;
  /** JAiRouter's id for it: its `instance-id`, else `name@base-url`. */
  readonly instanceId: string;
  /** Its section as written. */
  readonly config: JsonObject;
}

/** The instances of a service, in config order. */
export function listInstances(model: JsonObject, type: ServiceType): InstanceEntry[] {
  const instances = instancesOf(model, type);
  const validated = validateModel(model);
  const ids = validated.ok ? instanceIds(validated.model, type) : instanceIdentities(instances);
  return instances.map((instance, index) => ({
    id: ids[index]!,
    instanceId: jaiRouterId(instance),
    config: isJsonObject(instance) ? instance : {},
  }));
}

/** The instance `ref` names; 404 when none, 409 when it fits several. */
export function findInstance(
  model: JsonObject,
  type: ServiceType,
  ref: string,
): InstanceEntry & { readonly index: number } {
  const entries = listInstances(model, type);
  const identities = instanceIdentities(instancesOf(model, type));
  const exact = entries.findIndex((entry) => entry.id === ref);
  if (exact >= 0) return { ...entries[exact]!, index: exact };
  const matches = entries.flatMap((entry, index) =>
    entry.instanceId === ref || nameAtBaseUrl(entry.config) === ref || identities[index] === ref
      ? [index]
      : []
  );
  if (matches.length === 1) return { ...entries[matches[0]!]!, index: matches[0]! };
  if (matches.length > 1) {
    throw new GatewayError(
      409,
      "ambiguous_instance",
      `"${ref}" names ${matches.length} ${type} instances; use one of their ids: ` +
        matches.map((index) => entries[index]!.id).join(", "),
    );
  }
  throw new GatewayError(404, "instance_not_found", `No ${type} instance "${ref}"`);
}

/**
 * Adds an instance at the end of a service's list; 409 when the same one is there already:
 * same name, base URL and path, the adapter's default path counting as written out.
 */
export function addInstance(
  model: JsonObject,
  type: ServiceType,
  instance: JsonObject,
): ConfigEdit {
  const instances = [...instancesOf(model, type), instance];
  const added = withInstances(model, type, instances);
  const validated = validateModel(added);
  // An invalid section is refused when the edit is applied; until then, compare as written.
  const keys = validated.ok ? instanceKeys(validated.model, type) : instances.map(instanceIdentity);
  const key = keys.at(-1)!;
  if (keys.indexOf(key) < keys.length - 1) {
    throw new GatewayError(
      409,
      "instance_exists",
      `The ${type} service already has the instance "${key}"; update it instead`,
    );
  }
  return { model: added, target: `${type}/${instanceIdentity(instance)}`, after: instance };
}

/** Replaces an instance with `change(its section)`. */
export function updateInstance(
  model: JsonObject,
  type: ServiceType,
  ref: string,
  change: (instance: JsonObject) => JsonObject,
): ConfigEdit {
  const found = findInstance(model, type, ref);
  const after = change(found.config);
  const instances = [...instancesOf(model, type)];
  instances[found.index] = after;
  return {
    model: withInstances(model, type, instances),
    target: `${type}/${found.id}`,
    before: found.config,
    after,
  };
}

/** Removes an instance. */
export function removeInstance(model: JsonObject, type: ServiceType, ref: string): ConfigEdit {
  const found = findInstance(model, type, ref);
  const instances = instancesOf(model, type).filter((_, index) => index !== found.index);
  return {
    model: withInstances(model, type, instances),
    target: `${type}/${found.id}`,
    before: found.config,
  };
}

/** A service's settings as written, without its instances. */
export function serviceSettings(model: JsonObject, type: ServiceType): JsonObject {
  const { instances: _, ...settings } = serviceOf(model, type);
  return settings;
}

/** Applies a merge patch to a service's settings; its instances are changed elsewhere. */
export function patchService(model: JsonObject, type: ServiceType, patch: JsonObject): ConfigEdit {
  if ("instances" in patch) {
    throw new GatewayError(
      400,
      "invalid_request",
      `Change instances through /admin/services/${type}/instances, not the service's settings`,
      { param: "instances" },
    );
  }
  const service = serviceOf(model, type);
  const before = serviceSettings(model, type);
  const after = mergePatch(before, patch) as JsonObject;
  const services = isJsonObject(model.services) ? model.services : {};
  return {
    model: {
      ...model,
      services: { ...services, [type]: { ...after, instances: service.instances ?? [] } },
    },
    target: `${type}`,
    before,
    after,
  };
}

/**
 * JAiRouter's instance id: its `instance-id` where one is written (JAiRouter v2.x), else
 * `name@base-url` as written, as JAiRouter builds it.
 */
export function jaiRouterId(instance: unknown): string {
  const fields = isJsonObject(instance) ? instance : {};
  const written = fields["instance-id"];
  return typeof written === "string" && written !== "" ? written : nameAtBaseUrl(fields);
}

/** `name@base-url` as written: JAiRouter's id of an instance without an `instance-id`. */
function nameAtBaseUrl(fields: JsonObject): string {
  return `${String(fields.name ?? "")}@${String(fields["base-url"] ?? "")}`;
}

function serviceOf(model: JsonObject, type: ServiceType): JsonObject {
  const services = isJsonObject(model.services) ? model.services : {};
  const service = services[type];
  return isJsonObject(service) ? service : {};
}

/** A service's instances as written, in config order. */
export function instancesOf(model: JsonObject, type: ServiceType): readonly unknown[] {
  const instances = serviceOf(model, type).instances;
  return Array.isArray(instances) ? instances : [];
}

function withInstances(model: JsonObject, type: ServiceType, instances: unknown[]): JsonObject {
  const services = isJsonObject(model.services) ? model.services : {};
  return { ...model, services: { ...services, [type]: { ...serviceOf(model, type), instances } } };
}

/**
 * Secrets in a `model:` section — an instance's `api-key` and the values of its secret headers
 * (`Authorization`, `Cookie`, anything naming auth, a key, token, secret, password, credential
 * or signature) — kept out of what the admin API answers, the audit trail and diffs: each is
 * shown as {@linkcode REDACTED}. A value that only names environment variables (`${OPENAI_KEY}`,
 * `Bearer ${TOKEN}`) holds no secret and is shown as written.
 *
 * A write may send {@linkcode REDACTED} back where it read it: the instance keeps the value it
 * has ({@linkcode keepStoredSecrets}), so a read, edit and write round trip needs no secret.
 * @module
 */
import { isJsonObject, type JsonObject } from "../lib/json.ts";
import type { ConfigProblem } from "./load.ts";
import { instanceIdentities } from "./instance_identity.ts";

/** What a secret reads as. */
export const REDACTED = "[redacted]";

/** Header names whose values are secret. */
const SECRET_HEADER = /auth|cookie|key|token|secret|passw|credential|signature/i;

/** `${NAME}` and `${NAME:default}` references. */
const REFERENCE = /\$\{[A-Za-z_][A-Za-z0-9_]*(?::[^}]*)?\}/g;

/** Scheme words that may stand before a reference without being a secret. */
const SCHEME = /^(?:bearer|basic|token)?$/i;

/** Whether a header of this name carries a secret. */
export function isSecretHeader(name: string): boolean {
  return SECRET_HEADER.test(name);
}

/** Whether `value`, written as a secret's value, holds one (rather than naming variables). */
function holdsSecret(value: string): boolean {
  const references = value.match(REFERENCE);
  if (references === null) return true;
  return !SCHEME.test(value.replace(REFERENCE, "").trim());
}

/** The secret `value` redacted, when it holds a secret. */
function redactedValue(value: unknown): unknown {
  return typeof value === "string" && holdsSecret(value) ? REDACTED : value;
}

/** `headers` with `change` applied to the values of secret headers. */
function changedHeaders(headers: JsonObject, change: (value: unknown) => unknown): JsonObject {
  return Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [
      name,
      isSecretHeader(name) ? change(value) : value,
    ]),
  );
}

/**
 * `value` with `change` applied to every secret, wherever it sits: any `api-key` (or
 * JAiRouter's `apiKey`) value, and the values of secret headers in any `headers` object.
 * Nothing else changes.
 */
export function mapSecrets(value: unknown, change: (secret: unknown) => unknown): unknown {
  if (Array.isArray(value)) return value.map((item) => mapSecrets(item, change));
  if (!isJsonObject(value)) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, child]) => {
      if (key === "api-key" || key === "apiKey") return [key, change(child)];
      if (key === "headers" && isJsonObject(child)) return [key, changedHeaders(child, change)];
      return [key, mapSecrets(child, change)];
    }),
  );
}

/** `value` with every secret that holds one (see the module doc) redacted. */
export function redactSecrets(value: unknown): unknown {
  return mapSecrets(value, redactedValue);
}

/** Whether `value` holds any secret written in clear. */
export function hasSecrets(value: unknown): boolean {
  let found = false;
  mapSecrets(value, (secret) => {
    found ||= holdsSecretValue(secret);
    return secret;
  });
  return found;
}

/** Whether a secret's value holds a secret rather than only naming environment variables. */
export function holdsSecretValue(value: unknown): value is string {
  return typeof value === "string" && holdsSecret(value);
}

/**
 * The value at `keys` of a `model:` section, redacted as {@linkcode redactSecrets} would
 * redact it in place: `keys` ending in `api-key`, or in `headers` and a secret header's name,
 * hold a secret themselves.
 */
export function redactSecretsAt(keys: readonly string[], value: unknown): unknown {
  const last = keys.at(-1);
  if (last === "api-key" || last === "apiKey") return redactedValue(value);
  if (keys.at(-2) === "headers" && last !== undefined && isSecretHeader(last)) {
    return redactedValue(value);
  }
  if (last === "headers" && isJsonObject(value)) return changedHeaders(value, redactedValue);
  return redactSecrets(value);
}

/**
 * `model` with each {@linkcode REDACTED} secret of an instance replaced by the value that
 * instance (the one of the same identity in `stored`) has; a problem for each that has none.
 */
export function keepStoredSecrets(
  model: JsonObject,
  stored: JsonObject,
): { readonly model: JsonObject; readonly problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const services = model.services;
  if (!isJsonObject(services) || !JSON.stringify(services).includes(REDACTED)) {
    return { model, problems };
  }
  const storedServices = isJsonObject(stored.services) ? stored.services : {};
  const kept = Object.fromEntries(
    Object.entries(services).map(([type, service]) => {
      if (!isJsonObject(service) || !Array.isArray(service.instances)) return [type, service];
      const storedService = storedServices[type];
      const storedList = isJsonObject(storedService) && Array.isArray(storedService.instances)
        ? storedService.instances
        : [];
      const storedByIdentity = new Map<string, unknown>(
        instanceIdentities(storedList).map((identity, index) => [identity, storedList[index]]),
      );
      const identities = instanceIdentities(service.instances);
      const instances = service.instances.map((instance, index) => {
        if (!isJsonObject(instance)) return instance;
        const before = storedByIdentity.get(identities[index]!);
        const was = isJsonObject(before) ? before : {};
        const at = `model.services.${type}.instances[${index}]`;
        const keep = (path: string, value: unknown, storedValue: unknown) => {
          if (value !== REDACTED) return value;
          if (typeof storedValue === "string") return storedValue;
          problems.push({
            path,
            message: `"${REDACTED}" keeps the stored value, and this instance has none to keep ` +
              `(instances are matched by name, base-url and path)`,
          });
          return value;
        };
        const result: JsonObject = { ...instance };
        if ("api-key" in instance) {
          result["api-key"] = keep(`${at}.api-key`, instance["api-key"], was["api-key"]) as string;
        }
        if (isJsonObject(instance.headers)) {
          const storedHeaders = isJsonObject(was.headers) ? was.headers : {};
          result.headers = Object.fromEntries(
            Object.entries(instance.headers).map(([name, value]) => [
              name,
              keep(`${at}.headers.${name}`, value, storedHeaders[name]),
            ]),
          ) as JsonObject;
        }
        return result;
      });
      return [type, { ...service, instances }];
    }),
  );
  return { model: { ...model, services: kept }, problems };
}

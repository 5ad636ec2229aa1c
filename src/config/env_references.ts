/**
 * Secrets kept out of the config: an instance's `api-key` or header value may name environment
 * variables, `${NAME}` (or, as Spring writes it, `${NAME:default}`), resolved each time the
 * section is validated. The section as written keeps the names, so the admin API, the store
 * and the audit trail never hold the values.
 * @module
 */

/** `${NAME}` or `${NAME:default}`; NAME as a shell spells it. */
const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([^}]*))?\}/g;

/** Reads an environment variable; `undefined` when it is not set. */
export type EnvironmentReader = (name: string) => string | undefined;

/** What {@linkcode resolveEnvReferences} answers. */
export type Resolution =
  | { readonly ok: true; readonly value: string }
  /** `name` is referenced, has no default, and is not set (or may not be read). */
  | { readonly ok: false; readonly missing: string };

/** The process environment; a variable the process may not read counts as not set. */
export function processEnvironment(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) return undefined;
    throw error;
  }
}

/** The names `text` refers to, in order. */
export function envReferences(text: string): string[] {
  return [...text.matchAll(REFERENCE)].map((match) => match[1]!);
}

/** `text` with every `${NAME}` replaced by the variable's value (or the written default). */
export function resolveEnvReferences(
  text: string,
  environment: EnvironmentReader = processEnvironment,
): Resolution {
  let missing: string | undefined;
  const value = text.replace(REFERENCE, (_, name: string, fallback: string | undefined) => {
    const found = environment(name) ?? fallback;
    if (found === undefined) missing ??= name;
    return found ?? "";
  });
  return missing === undefined ? { ok: true, value } : { ok: false, missing };
}

/** A reference in a `model:` section as written: where it is and the variable it names. */
export interface PlacedReference {
  /** The key's YAML path: `model.services.chat.instances[0].api-key`. */
  readonly path: string;
  readonly name: string;
}

/** Every reference an instance's `api-key` or header values hold in a `model:` section. */
export function modelEnvReferences(model: unknown): PlacedReference[] {
  const found: PlacedReference[] = [];
  const add = (path: string, value: unknown) => {
    if (typeof value !== "string") return;
    for (const name of envReferences(value)) found.push({ path, name });
  };
  for (const [type, service] of Object.entries(objectAt(model, "services"))) {
    const instances = (service as { instances?: unknown } | null)?.instances;
    if (!Array.isArray(instances)) continue;
    instances.forEach((instance: unknown, index) => {
      const at = `model.services.${type}.instances[${index}]`;
      add(`${at}.api-key`, objectAt(instance)["api-key"]);
      for (const [header, value] of Object.entries(objectAt(instance, "headers"))) {
        add(`${at}.headers.${header}`, value);
      }
    });
  }
  return found;
}

/** `value[key]` (or `value` itself) when it is an object, else an empty one. */
function objectAt(value: unknown, key?: string): Record<string, unknown> {
  const found = key === undefined ? value : (value as Record<string, unknown> | null)?.[key];
  return typeof found === "object" && found !== null && !Array.isArray(found)
    ? found as Record<string, unknown>
    : {};
}

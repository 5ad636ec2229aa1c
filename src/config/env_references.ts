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

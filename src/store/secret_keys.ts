/**
 * The keys that seal the store's secrets, from the environment: `SWITCHYARD_SECRET_KEY` (or a
 * file named by `SWITCHYARD_SECRET_KEY_FILE`, as container secrets are mounted) seals; keys in
 * `SWITCHYARD_PREVIOUS_SECRET_KEYS` (or `…_FILE`), one per line or comma-separated, still open
 * what they sealed, for rotation.
 * @module
 */
import { SecretBox } from "./secret_box.ts";

/** A key setting that cannot be used; the message says which and why. */
export class SecretKeyError extends Error {
  override name = "SecretKeyError";
}

/** Reads an environment variable; `undefined` when unset. */
export type EnvironmentReader = (name: string) => string | undefined;

/**
 * The box of the keys the environment names, or undefined when it names none. Throws a
 * {@linkcode SecretKeyError} for a variable and its `_FILE` both set, an unreadable file, or a
 * key too short.
 */
export async function secretBoxFromEnvironment(
  environment: EnvironmentReader,
  readFile: (path: string) => Promise<string> = Deno.readTextFile,
): Promise<SecretBox | undefined> {
  const current = await setting("SWITCHYARD_SECRET_KEY", environment, readFile);
  const previous = await setting("SWITCHYARD_PREVIOUS_SECRET_KEYS", environment, readFile);
  if (current === undefined) {
    if (previous !== undefined) {
      throw new SecretKeyError(
        "SWITCHYARD_PREVIOUS_SECRET_KEYS is set without SWITCHYARD_SECRET_KEY, the key to seal with",
      );
    }
    return undefined;
  }
  const older = (previous ?? "").split(/[\n,]/).map((key) => key.trim()).filter(Boolean);
  try {
    return await SecretBox.create(current.trim(), older);
  } catch (error) {
    if (error instanceof RangeError) throw new SecretKeyError(error.message);
    throw error;
  }
}

async function setting(
  name: string,
  environment: EnvironmentReader,
  readFile: (path: string) => Promise<string>,
): Promise<string | undefined> {
  const value = environment(name) || undefined;
  const file = environment(`${name}_FILE`) || undefined;
  if (value !== undefined && file !== undefined) {
    throw new SecretKeyError(`Set ${name} or ${name}_FILE, not both`);
  }
  if (file === undefined) return value;
  try {
    return await readFile(file);
  } catch (error) {
    throw new SecretKeyError(`${name}_FILE names "${file}", which cannot be read: ${error}`);
  }
}

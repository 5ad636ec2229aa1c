/**
 * The secrets of a stored config version, sealed in the store: with a key given
 * (`SWITCHYARD_SECRET_KEY`), every instance secret written in clear (see `secrets.ts`) is sealed
 * before a version is written and opened when it is read, so the store's file never holds one in
 * clear. Values that only name environment variables hold no secret and stay as written.
 * @module
 */
import { isSealed, sealedKeyId, type SecretBox, UnsealError } from "../store/secret_box.ts";
import { holdsSecretValue, mapSecrets } from "./secrets.ts";

/** Turns a version's config into what the store keeps, and back. */
export interface VersionCodec<T> {
  /** What the store keeps of `config`. */
  encode(config: T): Promise<T>;
  /** The config the store kept as `stored`; throws when it cannot be read. */
  decode(stored: T): Promise<T>;
  /** Whether `stored` is as `encode` writes it now (every secret sealed with the current key). */
  isCurrent(stored: T): boolean;
}

/** Every secret value of `config` that `pick` selects. */
function secretsOf(config: unknown, pick: (value: unknown) => boolean): Set<string> {
  const found = new Set<string>();
  mapSecrets(config, (value) => {
    if (pick(value)) found.add(value as string);
    return value;
  });
  return found;
}

/** `config` with each secret `replaced` names replaced by its value there. */
function replaced<T>(config: T, replacements: ReadonlyMap<string, string>): T {
  if (replacements.size === 0) return config;
  return mapSecrets(
    config,
    (value) => typeof value === "string" ? replacements.get(value) ?? value : value,
  ) as T;
}

/**
 * Seals with `box`; without one, versions are kept as they are, and a stored version with
 * sealed secrets cannot be read.
 */
export function sealedSecrets<T>(box: SecretBox | undefined): VersionCodec<T> {
  return {
    async encode(config) {
      if (box === undefined) return config;
      const plain = [...secretsOf(config, (value) => holdsSecretValue(value) && !isSealed(value))];
      const sealed = await Promise.all(plain.map((value) => box.seal(value)));
      return replaced(config, new Map(plain.map((value, index) => [value, sealed[index]!])));
    },
    async decode(stored) {
      const sealed = [...secretsOf(stored, isSealed)];
      if (sealed.length === 0) return stored;
      if (box === undefined) {
        throw new UnsealError(
          "The store holds secrets sealed with a key; give it in SWITCHYARD_SECRET_KEY " +
            "(or SWITCHYARD_SECRET_KEY_FILE)",
        );
      }
      const plain = await Promise.all(sealed.map((value) => box.open(value)));
      return replaced(stored, new Map(sealed.map((value, index) => [value, plain[index]!])));
    },
    isCurrent(stored) {
      if (box === undefined) return true;
      const stale = secretsOf(
        stored,
        (value) => isSealed(value) ? sealedKeyId(value) !== box.keyId : holdsSecretValue(value),
      );
      return stale.size === 0;
    },
  };
}

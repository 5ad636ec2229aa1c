/**
 * Sealing secrets for the store with AES-256-GCM (WebCrypto), under a key derived with HKDF from
 * an operator's key text. A sealed value names the key it was sealed with, so a key can be
 * rotated: values sealed with a previous key open as long as that key is given.
 *
 * Sealed form: `sealed:v1:<key id>:<base64url of the 12-byte IV and the ciphertext>`.
 * @module
 */

const PREFIX = "sealed:v1:";
const SEALED = /^sealed:v1:([0-9a-f]{16}):([A-Za-z0-9_-]+)$/;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The shortest key text accepted. */
export const MIN_KEY_LENGTH = 16;

/** A sealed value that cannot be opened: its key is not given, or it was tampered with. */
export class UnsealError extends Error {
  override name = "UnsealError";
}

interface Key {
  readonly id: string;
  readonly key: CryptoKey;
}

/** Whether `value` is a sealed value. */
export function isSealed(value: unknown): value is string {
  return typeof value === "string" && value.startsWith(PREFIX);
}

/** The id of the key `sealed` was sealed with. */
export function sealedKeyId(sealed: string): string | undefined {
  return SEALED.exec(sealed)?.[1];
}

/** Seals with the current key; opens what the current or a previous key sealed. */
export class SecretBox {
  readonly #current: Key;
  readonly #keys: ReadonlyMap<string, CryptoKey>;

  private constructor(current: Key, all: readonly Key[]) {
    this.#current = current;
    this.#keys = new Map(all.map((key) => [key.id, key.key]));
  }

  /**
   * A box sealing with `current` and opening with it and `previous`. Throws a RangeError for a
   * key text shorter than {@linkcode MIN_KEY_LENGTH}.
   */
  static async create(current: string, previous: readonly string[] = []): Promise<SecretBox> {
    const keys = await Promise.all([current, ...previous].map(deriveKey));
    return new SecretBox(keys[0]!, keys);
  }

  /** The id of the key new values are sealed with. */
  get keyId(): string {
    return this.#current.id;
  }

  async seal(plain: string): Promise<string> {
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const sealed = await crypto.subtle.encrypt(
      { name: "AES-GCM", iv },
      this.#current.key,
      encoder.encode(plain),
    );
    const bytes = new Uint8Array(12 + sealed.byteLength);
    bytes.set(iv);
    bytes.set(new Uint8Array(sealed), 12);
    return `${PREFIX}${this.#current.id}:${
      bytes.toBase64({ alphabet: "base64url", omitPadding: true })
    }`;
  }

  /** The plain text of `sealed`; an {@linkcode UnsealError} when it cannot be opened. */
  async open(sealed: string): Promise<string> {
    const match = SEALED.exec(sealed);
    if (!match) throw new UnsealError("A sealed value is malformed");
    const [, id, data] = match;
    const key = this.#keys.get(id!);
    if (key === undefined) {
      throw new UnsealError(`A secret is sealed with key ${id}, which was not given`);
    }
    const bytes = Uint8Array.fromBase64(data!, { alphabet: "base64url" });
    try {
      const plain = await crypto.subtle.decrypt(
        { name: "AES-GCM", iv: bytes.subarray(0, 12) },
        key,
        bytes.subarray(12),
      );
      return decoder.decode(plain);
    } catch {
      throw new UnsealError(`A secret sealed with key ${id} does not open: it was altered`);
    }
  }
}

async function deriveKey(text: string): Promise<Key> {
  if (text.length < MIN_KEY_LENGTH) {
    throw new RangeError(`A secret key needs at least ${MIN_KEY_LENGTH} characters`);
  }
  const material = await crypto.subtle.importKey("raw", encoder.encode(text), "HKDF", false, [
    "deriveKey",
  ]);
  const key = await crypto.subtle.deriveKey(
    {
      name: "HKDF",
      hash: "SHA-256",
      salt: encoder.encode("switchyard"),
      info: encoder.encode("config secrets v1"),
    },
    material,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
  const digest = await crypto.subtle.digest(
    "SHA-256",
    encoder.encode(`switchyard key id\0${text}`),
  );
  const id = new Uint8Array(digest, 0, 8).toHex();
  return { id, key };
}

/**
 * Keys as the gateway keeps them: only their SHA-256 digest, compared in constant time. A key
 * is looked up by its digest (which reveals nothing of the key), then the digests are compared
 * with `timingSafeEqual`.
 * @module
 */
import { Buffer } from "node:buffer";
import { createHash, timingSafeEqual } from "node:crypto";

/** The hex SHA-256 digest of a key. */
export function digestOf(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

/** The digest of a key as written in config: the key itself, or `sha256:<hex digest>`. */
export function writtenDigest(written: string): string {
  return written.startsWith("sha256:")
    ? written.slice("sha256:".length).toLowerCase()
    : digestOf(written);
}

/** Whether two hex digests are equal, in time that does not depend on where they differ. */
export function sameDigest(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  return timingSafeEqual(new TextEncoder().encode(a), new TextEncoder().encode(b));
}

/** A new random key: `sy-` and 32 bytes of base64url, about 256 bits. */
export function newKey(): string {
  return `sy-${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url")}`;
}

/** The credential a request presents: `Authorization: Bearer <key>` or `X-API-Key: <key>`. */
export function presentedCredential(headers: Headers): string | undefined {
  const authorization = headers.get("authorization")?.trim();
  if (authorization) {
    const match = /^bearer(?:\s+(.*))?$/i.exec(authorization);
    const token = match ? match[1]?.trim() : authorization;
    if (token) return token;
  }
  return headers.get("x-api-key")?.trim() || undefined;
}

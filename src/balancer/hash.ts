import { createHash } from "node:crypto";
import type { HashAlgorithm } from "./types.ts";

/** The first 32 bits of `text`'s digest, as an unsigned integer. */
export function hash32(algorithm: HashAlgorithm, text: string): number {
  return createHash(algorithm).update(text).digest().readUInt32BE(0);
}

/**
 * Who a request comes from, as limits and the answer cache tell clients apart: its IP, and the
 * API key it presents (`Authorization: Bearer …` or `X-API-Key`) whether or not the gateway
 * checks keys. The key itself is only ever hashed.
 * @module
 */
import { createHash } from "node:crypto";
import { presentedCredential } from "../../auth/secret.ts";
import type { LimitedClient } from "../../limiter/admission.ts";

/** A client for limits keyed by IP or API key; the key's digest is made only when asked for. */
export function limitedClient(ip: string, headers: Headers): LimitedClient {
  let digest: string | undefined;
  return {
    ip,
    apiKey() {
      if (digest === undefined) {
        const credential = presentedCredential(headers);
        digest = credential === undefined
          ? "anonymous"
          : createHash("sha256").update(credential).digest("base64url").slice(0, 22);
      }
      return digest;
    },
  };
}

/**
 * Optimistic concurrency for admin writes: every read carries the live config version as an
 * `ETag`, and every write must name the version it was based on in `If-Match`. A write based
 * on an older version gets a 412 with the current ETag; one without `If-Match`, a 428.
 * @module
 */
import { GatewayError } from "../errors.ts";

/** The ETag of a config version: `"v12"`. */
export function etagOf(version: number): string {
  return `"v${version}"`;
}

/**
 * The version a write is based on, from its `If-Match`: a number, or `any` for `*` (the
 * standard "whatever is current", for scripts that mean it). Throws 428 when absent and 400
 * when it names no version.
 */
export function expectedVersion(ifMatch: string | undefined): number | "any" {
  if (ifMatch === undefined || ifMatch.trim() === "") {
    throw new GatewayError(
      428,
      "precondition_required",
      "Send If-Match with the ETag of the config you read (GET it first), so a change made " +
        "meanwhile is not overwritten; If-Match: * writes over any version",
    );
  }
  const value = ifMatch.trim();
  if (value === "*") return "any";
  const match = /^(?:W\/)?"v(\d+)"$/.exec(value);
  if (!match) {
    throw new GatewayError(
      400,
      "invalid_if_match",
      `If-Match ${JSON.stringify(value)} is not an ETag this API gave out, such as "v12"`,
    );
  }
  return Number(match[1]);
}

/** The 412 for a write based on a version that is no longer live. */
export function staleWrite(current: number): GatewayError {
  return new GatewayError(
    412,
    "precondition_failed",
    `The config changed since you read it: it is now version ${current}; read it again and ` +
      `reapply your change`,
    { headers: { etag: etagOf(current) } },
  );
}

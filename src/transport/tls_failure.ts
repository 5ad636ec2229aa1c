/**
 * Reads why a TLS handshake with a backend failed, from the runtime's (rustls's) error, as a
 * reason in a few words and what an operator can do about it.
 * @module
 */
import { TlsFailure } from "./errors.ts";

/** A kind of handshake failure: how to recognise it, what to call it, and the remedy. */
interface Kind {
  readonly pattern: RegExp;
  readonly reason: string;
  readonly remedy: string;
}

const KINDS: readonly Kind[] = [
  {
    pattern: /UnknownIssuer/,
    reason: "unknown issuer",
    remedy: "no trusted authority signed the certificate: if a private one did, point DENO_CERT " +
      "at that authority's PEM file",
  },
  {
    pattern: /not valid for name|NotValidForName/,
    reason: "name mismatch",
    remedy: "use a base-url whose host the certificate names, or give the backend a " +
      "certificate for this host",
  },
  {
    pattern: /expired/i,
    reason: "expired",
    remedy: "renew the backend's certificate",
  },
  {
    pattern: /not valid yet|NotValidYet/i,
    reason: "not yet valid",
    remedy: "check the clocks of the gateway's and the backend's hosts",
  },
  {
    pattern: /revoked/i,
    reason: "revoked",
    remedy: "give the backend a new certificate",
  },
  {
    pattern: /invalid peer certificate/,
    reason: "invalid certificate",
    remedy: "check the backend's certificate",
  },
  {
    pattern: /corrupt message/,
    reason: "not TLS",
    remedy: "the backend does not speak TLS on this port: use http:// or its TLS port",
  },
];

/**
 * The `TlsFailure` that `error`, thrown by the handshake with `hostname`, stands for; undefined
 * when it is not a TLS failure (a connection reset or closed mid-handshake is the network's).
 */
export function tlsFailure(error: unknown, hostname: string): TlsFailure | undefined {
  if (!(error instanceof Deno.errors.InvalidData)) return undefined;
  const detail = error.message;
  const kind = KINDS.find(({ pattern }) => pattern.test(detail));
  return new TlsFailure({
    hostname,
    reason: kind?.reason ?? "handshake failed",
    detail,
    remedy: kind?.remedy ?? "check the backend's TLS settings",
  });
}

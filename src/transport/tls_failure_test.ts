import assert from "node:assert/strict";
import { TlsFailure } from "./errors.ts";
import { tlsFailure } from "./tls_failure.ts";

const invalid = (message: string) => new Deno.errors.InvalidData(message);

Deno.test("each certificate error reads as its reason", () => {
  const cases: [string, string][] = [
    ["invalid peer certificate: UnknownIssuer", "unknown issuer"],
    ['invalid peer certificate: certificate not valid for name "a.test"', "name mismatch"],
    ["invalid peer certificate: certificate expired: verification time 2", "expired"],
    ["invalid peer certificate: certificate not valid yet: verification time 1", "not yet valid"],
    ["invalid peer certificate: Revoked", "revoked"],
    ["invalid peer certificate: BadSignature", "invalid certificate"],
    ["received corrupt message of type InvalidContentType", "not TLS"],
    ["received fatal alert: HandshakeFailure", "handshake failed"],
  ];
  for (const [message, reason] of cases) {
    const failure = tlsFailure(invalid(message), "gpu.test");
    assert.ok(failure instanceof TlsFailure, message);
    assert.equal(failure.reason, reason, message);
    assert.match(failure.message, /^The TLS handshake with "gpu\.test" failed \(/);
    assert.ok(failure.message.includes(message), "the runtime's own words are kept");
  }
});

Deno.test("a connection that breaks during the handshake is not a TLS failure", () => {
  assert.equal(tlsFailure(new Deno.errors.UnexpectedEof("unexpected end of file"), "h"), undefined);
  assert.equal(tlsFailure(new Deno.errors.ConnectionReset("reset"), "h"), undefined);
  assert.equal(tlsFailure(new Error("other"), "h"), undefined);
});

import assert from "node:assert/strict";
import { base64url, base64urlJson, type Signer, signJwt } from "../../tests/fixtures/jwt.ts";
import {
  JWT_ALGORITHMS,
  type JwtAlgorithm,
  type JwtFetch,
  type JwtResult,
  type JwtSettings,
  JwtVerifier,
} from "./jwt.ts";

const NOW = Date.parse("2026-11-22T12:00:00.000Z");
/** `exp` of the tokens: an hour after NOW, in seconds. */
const EXP = NOW / 1000 + 3600;
const SKEW = 30_000;
const TTL = 300_000;
const JWKS_URL = "https://issuer.example/.well-known/jwks.json";

const encoder = new TextEncoder();

function pem(spki: ArrayBuffer): string {
  const body = btoa(String.fromCharCode(...new Uint8Array(spki))).match(/.{1,64}/g) ?? [];
  return ["-----BEGIN PUBLIC KEY-----", ...body, "-----END PUBLIC KEY-----"].join("\n");
}

function hashOf(alg: string): string {
  return `SHA-${alg.slice(2) || "256"}`;
}

function hmacSigner(secret: Uint8Array<ArrayBuffer>): Signer {
  return async (alg, data) => {
    const hash = ["HS256", "HS384", "HS512"].includes(alg) ? hashOf(alg) : "SHA-256";
    const key = await crypto.subtle.importKey("raw", secret, { name: "HMAC", hash }, false, [
      "sign",
    ]);
    return await crypto.subtle.sign("HMAC", key, data);
  };
}

function rsaSigner(pkcs8: ArrayBuffer): Signer {
  return async (alg, data) => {
    const name = alg.startsWith("PS") ? "RSA-PSS" : "RSASSA-PKCS1-v1_5";
    const hash = hashOf(alg);
    const key = await crypto.subtle.importKey("pkcs8", pkcs8, { name, hash }, false, ["sign"]);
    const params = name === "RSA-PSS" ? { name, saltLength: Number(alg.slice(2)) / 8 } : { name };
    return await crypto.subtle.sign(params, key, data);
  };
}

function ecSigner(privateKey: CryptoKey, hash: string): Signer {
  return (_alg, data) => crypto.subtle.sign({ name: "ECDSA", hash }, privateKey, data);
}

function edSigner(privateKey: CryptoKey): Signer {
  return (_alg, data) => crypto.subtle.sign("Ed25519", privateKey, data);
}

function claims(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { sub: "client-1", exp: EXP, ...extra };
}

async function ecPair(namedCurve: "P-256" | "P-384"): Promise<CryptoKeyPair> {
  return await crypto.subtle.generateKey({ name: "ECDSA", namedCurve }, true, ["sign", "verify"]);
}

async function rsaPair(modulusLength: number): Promise<CryptoKeyPair> {
  return await crypto.subtle.generateKey(
    {
      name: "RSASSA-PKCS1-v1_5",
      modulusLength,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: "SHA-256",
    },
    true,
    ["sign", "verify"],
  );
}

async function publicJwk(pair: CryptoKeyPair, extra: Record<string, unknown> = {}) {
  const { kty, n, e, crv, x, y } = await crypto.subtle.exportKey("jwk", pair.publicKey);
  return { kty, n, e, crv, x, y, ...extra };
}

const HMAC_SECRET = "test-secret-that-is-long-enough-for-hs512-0123456789abcdefghijklmnop";
const hmac = hmacSigner(encoder.encode(HMAC_SECRET));

const rsa = await rsaPair(2048);
const rsaPem = pem(await crypto.subtle.exportKey("spki", rsa.publicKey));
const rsaSign = rsaSigner(await crypto.subtle.exportKey("pkcs8", rsa.privateKey));

const p256 = await ecPair("P-256");
const p256Pem = pem(await crypto.subtle.exportKey("spki", p256.publicKey));
const p256Sign = ecSigner(p256.privateKey, "SHA-256");
const otherP256 = await ecPair("P-256");
const otherP256Sign = ecSigner(otherP256.privateKey, "SHA-256");

const p384 = await ecPair("P-384");
const p384Jwk = JSON.stringify(await publicJwk(p384));
const p384Sign = ecSigner(p384.privateKey, "SHA-384");

const ed = await crypto.subtle.generateKey("Ed25519", true, ["sign", "verify"]) as CryptoKeyPair;
const edPem = pem(await crypto.subtle.exportKey("spki", ed.publicKey));
const edSign = edSigner(ed.privateKey);

/** For each algorithm, how to sign and the `key` setting that verifies it. */
const FIXTURES: Record<JwtAlgorithm, { readonly signer: Signer; readonly key: string }> = {
  HS256: { signer: hmac, key: HMAC_SECRET },
  HS384: { signer: hmac, key: HMAC_SECRET },
  HS512: { signer: hmac, key: HMAC_SECRET },
  RS256: { signer: rsaSign, key: rsaPem },
  RS384: { signer: rsaSign, key: rsaPem },
  RS512: { signer: rsaSign, key: rsaPem },
  PS256: { signer: rsaSign, key: rsaPem },
  PS384: { signer: rsaSign, key: rsaPem },
  PS512: { signer: rsaSign, key: rsaPem },
  ES256: { signer: p256Sign, key: p256Pem },
  ES384: { signer: p384Sign, key: p384Jwk },
  EdDSA: { signer: edSign, key: edPem },
};

/** A mutable clock, starting at NOW. */
function clock(): { now: () => number; set(at: number): void } {
  let at = NOW;
  return { now: () => at, set: (value) => at = value };
}

function verifier(settings: JwtSettings, now: () => number = () => NOW): JwtVerifier {
  return new JwtVerifier(settings, {
    now,
    fetch: () => Promise.reject(new Error("unexpected fetch")),
  });
}

function assertOk(result: JwtResult): Readonly<Record<string, unknown>> {
  if (!result.ok) assert.fail(`expected the token to pass, got: ${result.reason}`);
  return result.claims;
}

function assertRefused(result: JwtResult, reason: string | RegExp): void {
  if (result.ok) assert.fail("expected the token to be refused");
  if (typeof reason === "string") assert.equal(result.reason, reason);
  else assert.match(result.reason, reason);
}

/** A JWKS endpoint: counts fetches and answers with `keys`, unless `answer` is set. */
class FakeJwks {
  calls = 0;
  keys: unknown[];
  answer: (() => Promise<Response>) | undefined;
  readonly urls: string[] = [];

  constructor(keys: unknown[]) {
    this.keys = keys;
  }

  readonly fetch: JwtFetch = (input) => {
    this.calls++;
    this.urls.push(input);
    return this.answer?.() ?? Promise.resolve(Response.json({ keys: this.keys }));
  };
}

function jwksVerifier(
  jwks: FakeJwks,
  now: () => number,
  settings: Partial<JwtSettings> = {},
): JwtVerifier {
  return new JwtVerifier(
    { algorithms: ["ES256", "RS256"], jwksUrl: JWKS_URL, jwksTtl: TTL, ...settings },
    { fetch: jwks.fetch, now },
  );
}

for (const alg of JWT_ALGORITHMS) {
  Deno.test(`${alg}: a well-signed token passes and gives its claims`, async () => {
    const { signer, key } = FIXTURES[alg];
    const token = await signJwt(signer, alg, claims({ scope: "chat" }));
    const result = await verifier({ algorithms: [alg], key }).verify(token);
    assert.deepEqual(assertOk(result), claims({ scope: "chat" }));
  });
}

Deno.test("the claims given back are frozen", async () => {
  const token = await signJwt(hmac, "HS256", claims());
  const result = assertOk(
    await verifier({ algorithms: ["HS256"], key: HMAC_SECRET }).verify(token),
  );
  assert.equal(Object.isFrozen(result), true);
});

Deno.test("a tampered payload does not match the signature", async () => {
  for (const alg of ["HS256", "RS256", "ES256", "EdDSA"] as const) {
    const { signer, key } = FIXTURES[alg];
    const [header, , signature] = (await signJwt(signer, alg, claims())).split(".");
    const forged = `${header}.${base64urlJson(claims({ sub: "admin" }))}.${signature}`;
    assertRefused(
      await verifier({ algorithms: [alg], key }).verify(forged),
      "signature does not match",
    );
  }
});

Deno.test("a token signed with another key does not match", async () => {
  const hsToken = await signJwt(hmacSigner(encoder.encode("another-secret")), "HS256", claims());
  assertRefused(
    await verifier({ algorithms: ["HS256"], key: HMAC_SECRET }).verify(hsToken),
    "signature does not match",
  );
  const esToken = await signJwt(otherP256Sign, "ES256", claims());
  assertRefused(
    await verifier({ algorithms: ["ES256"], key: p256Pem }).verify(esToken),
    "signature does not match",
  );
});

Deno.test("a signature of the wrong length is refused", async () => {
  const [header, payload] = (await signJwt(p256Sign, "ES256", claims())).split(".");
  const token = `${header}.${payload}.${base64url(new Uint8Array(70))}`;
  assertRefused(
    await verifier({ algorithms: ["ES256"], key: p256Pem }).verify(token),
    "signature does not match",
  );
});

Deno.test("expiry: the token passes until exp plus the skew, and not from then on", async () => {
  const time = clock();
  const check = verifier({ algorithms: ["HS256"], key: HMAC_SECRET, clockSkew: SKEW }, time.now);
  const token = await signJwt(hmac, "HS256", claims());
  const expiry = EXP * 1000;
  time.set(expiry);
  assertOk(await check.verify(token));
  time.set(expiry + SKEW - 1);
  assertOk(await check.verify(token));
  time.set(expiry + SKEW);
  assertRefused(await check.verify(token), "token expired at 2026-11-22T13:00:00.000Z");
});

Deno.test("expiry: without skew, the token is refused exactly at exp", async () => {
  const time = clock();
  const check = verifier({ algorithms: ["HS256"], key: HMAC_SECRET, clockSkew: 0 }, time.now);
  const token = await signJwt(hmac, "HS256", claims());
  time.set(EXP * 1000 - 1);
  assertOk(await check.verify(token));
  time.set(EXP * 1000);
  assertRefused(await check.verify(token), "token expired at 2026-11-22T13:00:00.000Z");
});

Deno.test("the skew defaults to 30 s", async () => {
  const time = clock();
  const check = verifier({ algorithms: ["HS256"], key: HMAC_SECRET }, time.now);
  const token = await signJwt(hmac, "HS256", claims());
  time.set(EXP * 1000 + 29_999);
  assertOk(await check.verify(token));
  time.set(EXP * 1000 + 30_000);
  assertRefused(await check.verify(token), /^token expired at /);
});

Deno.test("not before: the token passes from nbf minus the skew", async () => {
  const time = clock();
  const check = verifier({ algorithms: ["HS256"], key: HMAC_SECRET, clockSkew: SKEW }, time.now);
  const nbf = NOW / 1000 + 600;
  const token = await signJwt(hmac, "HS256", claims({ nbf }));
  time.set(nbf * 1000 - SKEW - 1);
  assertRefused(await check.verify(token), "token is not valid before 2026-11-22T12:10:00.000Z");
  time.set(nbf * 1000 - SKEW);
  assertOk(await check.verify(token));
});

Deno.test("a token issued in the future beyond the skew is refused", async () => {
  const check = verifier({ algorithms: ["HS256"], key: HMAC_SECRET, clockSkew: SKEW });
  const ahead = await signJwt(hmac, "HS256", claims({ iat: (NOW + SKEW + 1_000) / 1000 }));
  assertRefused(
    await check.verify(ahead),
    "token was issued in the future, at 2026-11-22T12:00:31.000Z",
  );
  const withinSkew = await signJwt(hmac, "HS256", claims({ iat: (NOW + SKEW) / 1000 }));
  assertOk(await check.verify(withinSkew));
});

Deno.test("a token without expiry, or with one that is not a number, is refused", async () => {
  const check = verifier({ algorithms: ["HS256"], key: HMAC_SECRET });
  assertRefused(
    await check.verify(await signJwt(hmac, "HS256", { sub: "x" })),
    "token has no expiry",
  );
  for (const exp of ["2030-01-01", null, [EXP], { at: EXP }]) {
    const token = await signJwt(hmac, "HS256", claims({ exp }));
    assertRefused(await check.verify(token), 'claim "exp" is not a number');
  }
  const badNbf = await signJwt(hmac, "HS256", claims({ nbf: "soon" }));
  assertRefused(await check.verify(badNbf), 'claim "nbf" is not a number');
  const badIat = await signJwt(hmac, "HS256", claims({ iat: "today" }));
  assertRefused(await check.verify(badIat), 'claim "iat" is not a number');
});

Deno.test("times no Date can hold give reasons instead of throwing", async () => {
  const check = verifier({ algorithms: ["HS256"], key: HMAC_SECRET });
  assertRefused(
    await check.verify(await signJwt(hmac, "HS256", claims({ exp: -1e300 }))),
    "token expired at -1e+300",
  );
  assertRefused(
    await check.verify(await signJwt(hmac, "HS256", claims({ nbf: 1e300 }))),
    "token is not valid before 1e+300",
  );
});

Deno.test("issuer: only the configured one is accepted", async () => {
  const check = verifier({ algorithms: ["HS256"], key: HMAC_SECRET, issuer: "https://id.example" });
  assertOk(await check.verify(await signJwt(hmac, "HS256", claims({ iss: "https://id.example" }))));
  assertRefused(
    await check.verify(await signJwt(hmac, "HS256", claims({ iss: "https://evil.example" }))),
    'issuer "https://evil.example" is not accepted',
  );
  assertRefused(await check.verify(await signJwt(hmac, "HS256", claims())), "token has no issuer");
  const unchecked = verifier({ algorithms: ["HS256"], key: HMAC_SECRET });
  assertOk(await unchecked.verify(await signJwt(hmac, "HS256", claims({ iss: "anyone" }))));
});

Deno.test("audience: a string or an array must hold an accepted audience", async () => {
  const check = verifier({
    algorithms: ["HS256"],
    key: HMAC_SECRET,
    audience: ["switchyard", "gateway"],
  });
  assertOk(await check.verify(await signJwt(hmac, "HS256", claims({ aud: "gateway" }))));
  assertOk(
    await check.verify(await signJwt(hmac, "HS256", claims({ aud: ["other", "switchyard"] }))),
  );
  assertRefused(
    await check.verify(await signJwt(hmac, "HS256", claims({ aud: "other" }))),
    'audience "\\"other\\"" is not accepted',
  );
  assertRefused(
    await check.verify(await signJwt(hmac, "HS256", claims({ aud: ["a", "b"] }))),
    /^audience .*is not accepted$/,
  );
  assertRefused(
    await check.verify(await signJwt(hmac, "HS256", claims({ aud: [] }))),
    /is not accepted$/,
  );
  assertRefused(
    await check.verify(await signJwt(hmac, "HS256", claims())),
    "token has no audience",
  );
});

Deno.test('alg "none" is always refused', async () => {
  const check = verifier({ algorithms: ["HS256"], key: HMAC_SECRET });
  const unsigned = `${base64urlJson({ alg: "none", typ: "JWT" })}.${base64urlJson(claims())}.`;
  assert.equal(JwtVerifier.looksLikeJwt(unsigned), true);
  assertRefused(await check.verify(unsigned), 'algorithm "none" is never accepted');
  const signed = await signJwt(hmac, "none", claims());
  assertRefused(await check.verify(signed), 'algorithm "none" is never accepted');
  const shouted = `${base64urlJson({ alg: "NONE" })}.${base64urlJson(claims())}.`;
  assertRefused(await check.verify(shouted), 'algorithm "NONE" is not accepted');
});

Deno.test("a token whose algorithm is not in the list is refused", async () => {
  const check = verifier({ algorithms: ["HS256"], key: HMAC_SECRET });
  assertRefused(
    await check.verify(await signJwt(hmac, "HS512", claims())),
    'algorithm "HS512" is not accepted',
  );
  assertRefused(
    await check.verify(await signJwt(hmac, "HS1024", claims())),
    'algorithm "HS1024" is not accepted',
  );
  const noAlg = `${base64urlJson({ typ: "JWT" })}.${base64urlJson(claims())}.c2ln`;
  assertRefused(await check.verify(noAlg), "token header names no algorithm");
});

Deno.test("a token with critical header extensions is refused", async () => {
  const check = verifier({ algorithms: ["HS256"], key: HMAC_SECRET });
  const token = await signJwt(hmac, "HS256", claims(), { crit: ["b64"], b64: false });
  assertRefused(await check.verify(token), "token header has critical extensions");
});

Deno.test("algorithm confusion: an HS token is never checked against an RSA public key", async () => {
  const check = verifier({ algorithms: ["HS256", "RS256"], key: rsaPem });
  // The classic forgery: HMAC with the public key's PEM text, or its DER bytes, as the secret.
  const derSecret = Uint8Array.from(
    atob(rsaPem.split("\n").slice(1, -1).join("")),
    (c) => c.charCodeAt(0),
  );
  for (const signer of [hmacSigner(encoder.encode(rsaPem)), hmacSigner(derSecret)]) {
    assertRefused(
      await check.verify(await signJwt(signer, "HS256", claims())),
      'algorithm "HS256" does not fit the key (an RSA key)',
    );
  }
  assertOk(await check.verify(await signJwt(rsaSign, "RS256", claims())));
});

Deno.test("algorithm confusion: the curve of an EC key must match the algorithm", async () => {
  const check = verifier({ algorithms: ["ES256", "ES384"], key: p384Jwk });
  assertRefused(
    await check.verify(await signJwt(p256Sign, "ES256", claims())),
    'algorithm "ES256" does not fit the key (a P-384 key)',
  );
});

Deno.test("a JWK key: RSA, EC and oct, with its alg pinning the algorithm", async () => {
  const rsaJwk = JSON.stringify(await publicJwk(rsa, { alg: "RS256", use: "sig" }));
  const pinned = verifier({ algorithms: ["RS256", "PS256"], key: rsaJwk });
  assertOk(await pinned.verify(await signJwt(rsaSign, "RS256", claims())));
  assertRefused(
    await pinned.verify(await signJwt(rsaSign, "PS256", claims())),
    'algorithm "PS256" does not fit the key (an RSA key)',
  );

  const ecJwk = JSON.stringify(await publicJwk(p256));
  assertOk(
    await verifier({ algorithms: ["ES256"], key: ecJwk }).verify(
      await signJwt(p256Sign, "ES256", claims()),
    ),
  );

  const octJwk = JSON.stringify({ kty: "oct", k: base64url(encoder.encode(HMAC_SECRET)) });
  assertOk(
    await verifier({ algorithms: ["HS384"], key: octJwk }).verify(
      await signJwt(hmac, "HS384", claims()),
    ),
  );
});

Deno.test("an RSA key under 2048 bits is not used", async () => {
  const small = await rsaPair(1024);
  const key = pem(await crypto.subtle.exportKey("spki", small.publicKey));
  const sign = rsaSigner(await crypto.subtle.exportKey("pkcs8", small.privateKey));
  assertRefused(
    await verifier({ algorithms: ["RS256"], key }).verify(await signJwt(sign, "RS256", claims())),
    'key could not be used with algorithm "RS256"',
  );
});

Deno.test("a private JWK is used by its public part only", async () => {
  const full = await crypto.subtle.exportKey("jwk", p256.privateKey);
  assert.equal(typeof full.d, "string");
  const check = verifier({ algorithms: ["ES256"], key: JSON.stringify(full) });
  assertOk(await check.verify(await signJwt(p256Sign, "ES256", claims())));
});

Deno.test("a PEM SPKI key, with surrounding whitespace, is read", async () => {
  const check = verifier({ algorithms: ["RS256"], key: `\n  ${rsaPem}\n\n` });
  assertOk(await check.verify(await signJwt(rsaSign, "RS256", claims())));
  const edCheck = verifier({ algorithms: ["EdDSA"], key: edPem.replaceAll("\n", "\r\n") });
  assertOk(await edCheck.verify(await signJwt(edSign, "EdDSA", claims())));
});

Deno.test("settings that cannot work throw, without the key in the message", () => {
  const cases: [JwtSettings, RegExp][] = [
    [{ algorithms: [], key: HMAC_SECRET }, /algorithms must not be empty/],
    [
      { algorithms: ["none" as JwtAlgorithm], key: HMAC_SECRET },
      /algorithm "none" is not supported/,
    ],
    [{ algorithms: ["HS256"] }, /exactly one of jwksUrl and key/],
    [
      { algorithms: ["HS256"], key: HMAC_SECRET, jwksUrl: JWKS_URL },
      /exactly one of jwksUrl and key/,
    ],
    [{ algorithms: ["HS256"], jwksUrl: "ftp://issuer.example/jwks" }, /http or https URL/],
    [
      { algorithms: ["RS256"], key: HMAC_SECRET },
      /key is an HMAC secret, which no accepted algorithm uses/,
    ],
    [{ algorithms: ["HS256"], key: rsaPem }, /key is an RSA key, which no accepted algorithm uses/],
    [
      { algorithms: ["RS256"], key: rsaPem.replace("PUBLIC KEY", "RSA PUBLIC KEY") },
      /PEM SPKI public key/,
    ],
    [{ algorithms: ["RS256"], key: rsaPem.replace(/\n(.{10})/, "\n$1!") }, /PEM SPKI public key/],
    [
      { algorithms: ["RS256"], key: "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----" },
      /not supported/,
    ],
    [{ algorithms: ["RS256"], key: '{"kty":"RSA"' }, /not valid JSON/],
    [{ algorithms: ["RS256"], key: '{"kty":"RSA","n":"AQAB"}' }, /has no valid n and e/],
    [{ algorithms: ["ES256"], key: '{"kty":"EC","crv":"P-521","x":"AA","y":"AA"}' }, /curve/],
    [
      { algorithms: ["HS256"], key: '{"kty":"oct","k":"c2VjcmV0","use":"enc"}' },
      /not meant for signatures/,
    ],
    [{ algorithms: ["HS256"], key: "" }, /must not be empty/],
    [{ algorithms: ["HS256"], key: HMAC_SECRET, clockSkew: -1 }, /clockSkew/],
    [{ algorithms: ["HS256"], key: HMAC_SECRET, clockSkew: Number.NaN }, /clockSkew/],
  ];
  for (const [settings, message] of cases) {
    assert.throws(() => new JwtVerifier(settings), (error: unknown) => {
      assert.ok(error instanceof Error);
      assert.match(error.message, message);
      assert.ok(!error.message.includes(HMAC_SECRET));
      assert.ok(!error.message.includes(rsaPem.split("\n")[1] ?? "?"));
      return true;
    });
  }
});

Deno.test("JWKS: the key is picked by kid, and the set is fetched once", async () => {
  const jwks = new FakeJwks([
    await publicJwk(p256, { kid: "ec", alg: "ES256", use: "sig" }),
    await publicJwk(rsa, { kid: "rsa" }),
    await publicJwk(otherP256, { kid: "other-ec" }),
  ]);
  const time = clock();
  const check = jwksVerifier(jwks, time.now);
  assert.equal(jwks.calls, 0);
  assertOk(await check.verify(await signJwt(p256Sign, "ES256", claims(), { kid: "ec" })));
  assertOk(await check.verify(await signJwt(rsaSign, "RS256", claims(), { kid: "rsa" })));
  assertOk(
    await check.verify(await signJwt(otherP256Sign, "ES256", claims(), { kid: "other-ec" })),
  );
  assertRefused(
    await check.verify(await signJwt(otherP256Sign, "ES256", claims(), { kid: "ec" })),
    "signature does not match",
  );
  assert.equal(jwks.calls, 1);
  assert.deepEqual(jwks.urls, [JWKS_URL]);
});

Deno.test("JWKS: a token without kid is tried against the keys that fit its algorithm", async () => {
  const jwks = new FakeJwks([
    await publicJwk(rsa, { kid: "rsa" }),
    await publicJwk(otherP256, { kid: "other-ec" }),
    await publicJwk(p256, { kid: "ec" }),
  ]);
  const check = jwksVerifier(jwks, () => NOW);
  assertOk(await check.verify(await signJwt(p256Sign, "ES256", claims())));
  assertOk(await check.verify(await signJwt(rsaSign, "RS256", claims())));
  assert.equal(jwks.calls, 1);
});

Deno.test("JWKS: a token without kid is tried against at most four keys", async () => {
  const strangers = await Promise.all(Array.from({ length: 4 }, () => ecPair("P-256")));
  const jwks = new FakeJwks([
    ...await Promise.all(strangers.map((pair) => publicJwk(pair))),
    await publicJwk(p256),
  ]);
  const check = jwksVerifier(jwks, () => NOW);
  assertRefused(
    await check.verify(await signJwt(p256Sign, "ES256", claims())),
    "signature does not match",
  );
  jwks.keys = jwks.keys.slice(1);
  const fresh = jwksVerifier(jwks, () => NOW);
  assertOk(await fresh.verify(await signJwt(p256Sign, "ES256", claims())));
});

Deno.test("JWKS: a key that cannot be used is named as such", async () => {
  const small = await rsaPair(1024);
  const sign = rsaSigner(await crypto.subtle.exportKey("pkcs8", small.privateKey));
  const jwks = new FakeJwks([await publicJwk(small, { kid: "small" })]);
  const check = jwksVerifier(jwks, () => NOW);
  assertRefused(
    await check.verify(await signJwt(sign, "RS256", claims(), { kid: "small" })),
    'key could not be used with algorithm "RS256"',
  );
});

Deno.test("JWKS: a kid whose key does not fit the algorithm is refused", async () => {
  const jwks = new FakeJwks([await publicJwk(rsa, { kid: "rsa" })]);
  const check = jwksVerifier(jwks, () => NOW, { algorithms: ["HS256", "RS256"] });
  // An HS256 token "signed" with the RSA public key as a secret must not get near that key.
  const token = await signJwt(hmacSigner(encoder.encode(rsaPem)), "HS256", claims(), {
    kid: "rsa",
  });
  assertRefused(await check.verify(token), 'key "rsa" does not fit algorithm "HS256"');
});

Deno.test("JWKS: a secret key published in a JWKS is never used", async () => {
  const secret = { kty: "oct", k: base64url(encoder.encode(HMAC_SECRET)) };
  const jwks = new FakeJwks([{ ...secret, kid: "hs" }, secret]);
  const check = jwksVerifier(jwks, () => NOW, { algorithms: ["HS256"] });
  assertRefused(
    await check.verify(await signJwt(hmac, "HS256", claims(), { kid: "hs" })),
    'key "hs" does not fit algorithm "HS256"',
  );
  assertRefused(
    await check.verify(await signJwt(hmac, "HS256", claims())),
    'no key fits algorithm "HS256"',
  );
});

Deno.test("JWKS: the set is kept for jwksTtl, then fetched again", async () => {
  const jwks = new FakeJwks([await publicJwk(p256, { kid: "ec" })]);
  const time = clock();
  const check = jwksVerifier(jwks, time.now);
  const token = await signJwt(p256Sign, "ES256", claims(), { kid: "ec" });
  assertOk(await check.verify(token));
  time.set(NOW + TTL - 1);
  assertOk(await check.verify(token));
  assert.equal(jwks.calls, 1);
  time.set(NOW + TTL);
  assertOk(await check.verify(token));
  assert.equal(jwks.calls, 2);
});

Deno.test("JWKS: an unknown kid fetches the set again, at most once every 10 s", async () => {
  const jwks = new FakeJwks([await publicJwk(p256, { kid: "old" })]);
  const time = clock();
  const check = jwksVerifier(jwks, time.now);
  assertOk(await check.verify(await signJwt(p256Sign, "ES256", claims(), { kid: "old" })));
  assert.equal(jwks.calls, 1);

  // The issuer rotates to a new key.
  jwks.keys = [await publicJwk(p256, { kid: "old" }), await publicJwk(otherP256, { kid: "new" })];
  const rotated = await signJwt(otherP256Sign, "ES256", claims(), { kid: "new" });
  time.set(NOW + 9_999);
  assertRefused(await check.verify(rotated), 'no key has id "new"');
  assertRefused(await check.verify(rotated), 'no key has id "new"');
  assert.equal(jwks.calls, 1);

  time.set(NOW + 10_000);
  assertOk(await check.verify(rotated));
  assert.equal(jwks.calls, 2);

  // A kid nobody publishes costs at most one fetch per 10 s.
  const unknown = await signJwt(otherP256Sign, "ES256", claims(), { kid: "unknown" });
  time.set(NOW + 15_000);
  assertRefused(await check.verify(unknown), 'no key has id "unknown"');
  assert.equal(jwks.calls, 2);
  time.set(NOW + 20_000);
  assertRefused(await check.verify(unknown), 'no key has id "unknown"');
  assertRefused(await check.verify(unknown), 'no key has id "unknown"');
  assert.equal(jwks.calls, 3);
});

Deno.test("JWKS: verifications at the same time share one fetch", async () => {
  const jwks = new FakeJwks([await publicJwk(p256, { kid: "ec" })]);
  const pending = Promise.withResolvers<Response>();
  jwks.answer = () => pending.promise;
  const check = jwksVerifier(jwks, () => NOW);
  const token = await signJwt(p256Sign, "ES256", claims(), { kid: "ec" });
  const results = Array.from({ length: 5 }, () => check.verify(token));
  assert.equal(jwks.calls, 1);
  pending.resolve(Response.json({ keys: jwks.keys }));
  for (const result of await Promise.all(results)) assertOk(result);
  assert.equal(jwks.calls, 1);
});

Deno.test("JWKS: a failed fetch refuses the token, and is retried after 10 s", async () => {
  const jwks = new FakeJwks([await publicJwk(p256, { kid: "ec" })]);
  const time = clock();
  const check = jwksVerifier(jwks, time.now);
  const token = await signJwt(p256Sign, "ES256", claims(), { kid: "ec" });

  jwks.answer = () => Promise.resolve(new Response("unavailable", { status: 503 }));
  const first = await check.verify(token);
  assertRefused(first, "could not fetch the JWKS: HTTP 503");
  assert.ok(!first.ok && !first.reason.includes(token));
  time.set(NOW + 9_999);
  assertRefused(await check.verify(token), "could not fetch the JWKS: HTTP 503");
  assert.equal(jwks.calls, 1);

  jwks.answer = () => Promise.reject(new TypeError(`connection refused ${JWKS_URL}`));
  time.set(NOW + 10_000);
  assertRefused(await check.verify(token), "could not fetch the JWKS: request failed");
  assert.equal(jwks.calls, 2);

  jwks.answer = undefined;
  time.set(NOW + 20_000);
  assertOk(await check.verify(token));
  assert.equal(jwks.calls, 3);
});

Deno.test("JWKS: a body that is not a key set is a failed fetch", async () => {
  const bodies: [() => Response, string][] = [
    [() => new Response("<html>", { status: 200 }), "JWKS is not valid JSON"],
    [() => Response.json([1, 2]), "JWKS has no keys array"],
    [() => Response.json({ keys: "none" }), "JWKS has no keys array"],
    [() => new Response("x".repeat(600 * 1024)), "JWKS is too large"],
    [
      () => new Response(null, { status: 302, headers: { location: "/elsewhere" } }),
      "could not fetch the JWKS: HTTP 302",
    ],
  ];
  const token = await signJwt(p256Sign, "ES256", claims(), { kid: "ec" });
  for (const [body, reason] of bodies) {
    const jwks = new FakeJwks([]);
    jwks.answer = () => Promise.resolve(body());
    assertRefused(await jwksVerifier(jwks, () => NOW).verify(token), reason);
  }
});

Deno.test("JWKS: keys that cannot be used are skipped", async () => {
  const jwks = new FakeJwks([
    null,
    "key",
    { kty: "RSA", kid: "ec" },
    { ...(await publicJwk(otherP256, { kid: "ec" })), use: "enc" },
    { ...(await publicJwk(otherP256, { kid: "ec" })), key_ops: ["encrypt"] },
    await publicJwk(p256, { kid: "ec" }),
  ]);
  const check = jwksVerifier(jwks, () => NOW);
  assertOk(await check.verify(await signJwt(p256Sign, "ES256", claims(), { kid: "ec" })));
});

Deno.test("keys are imported once per key and algorithm, across JWKS fetches", async () => {
  const jwks = new FakeJwks([
    await publicJwk(p256, { kid: "ec" }),
    await publicJwk(rsa, { kid: "rsa" }),
  ]);
  const time = clock();
  const check = jwksVerifier(jwks, time.now, { algorithms: ["ES256", "RS256", "PS256"] });
  const tokens = [
    await signJwt(p256Sign, "ES256", claims(), { kid: "ec" }),
    await signJwt(rsaSign, "RS256", claims(), { kid: "rsa" }),
    await signJwt(rsaSign, "PS256", claims(), { kid: "rsa" }),
  ];
  const subtle = crypto.subtle;
  const importKey = subtle.importKey;
  let imports = 0;
  Object.defineProperty(subtle, "importKey", {
    configurable: true,
    value: (...args: unknown[]) => {
      imports++;
      return Reflect.apply(importKey, subtle, args);
    },
  });
  try {
    for (let round = 0; round < 3; round++) {
      for (const token of tokens) assertOk(await check.verify(token));
    }
    assert.equal(imports, 3);
    time.set(NOW + TTL);
    for (const token of tokens) assertOk(await check.verify(token));
    assert.equal(jwks.calls, 2);
    assert.equal(imports, 3);
  } finally {
    Reflect.deleteProperty(subtle, "importKey");
  }
  assert.equal(crypto.subtle.importKey, importKey);
});

Deno.test("garbage never throws, and is refused with a reason that does not repeat it", async () => {
  const check = verifier({ algorithms: ["HS256", "RS256"], key: HMAC_SECRET });
  const payload = base64urlJson(claims());
  const header = base64urlJson({ alg: "HS256" });
  const garbage = [
    "",
    ".",
    "..",
    "a.b",
    "a.b.c.d",
    "not a token at all",
    "sk-1234567890abcdefghijklmnop",
    "!!!!!!!!.????????.########",
    `${header}.${payload}.sig=`,
    `${header}.${payload}.a`,
    `${base64url(encoder.encode("not json"))}.${payload}.c2ln`,
    `${base64urlJson([1, 2])}.${payload}.c2ln`,
    `${base64urlJson(null)}.${payload}.c2ln`,
    `${base64urlJson("HS256")}.${payload}.c2ln`,
    `${header}.${base64urlJson(42)}.c2ln`,
    `${header}.${base64urlJson([claims()])}.c2ln`,
    `${base64url(new Uint8Array([0xff, 0xfe, 0x7b, 0x7d]))}.${payload}.c2ln`,
    `${header}.${payload}.${"A".repeat(16 * 1024)}`,
    "x".repeat(1_000_000),
  ];
  for (const token of garbage) {
    const result = await check.verify(token);
    assert.equal(result.ok, false, token.slice(0, 40));
    if (!result.ok && token.length >= 8) assert.ok(!result.reason.includes(token), result.reason);
  }
  assertRefused(await check.verify("x".repeat(16 * 1024 + 1)), "token is too long");
  assertRefused(await check.verify("a.b.c.d"), "token is not a JWT");
  assertRefused(
    await check.verify(`${base64urlJson([1])}.${payload}.c2ln`),
    "token header is not a base64url JSON object",
  );
  assertRefused(
    await check.verify(`${header}.${base64urlJson(42)}.c2ln`),
    "token payload is not a base64url JSON object",
  );
  assertRefused(
    await check.verify(`${header}.${payload}.sig=`),
    "token signature is not base64url",
  );
});

Deno.test("refusal reasons never repeat the token or its signature", async () => {
  const check = verifier({
    algorithms: ["HS256"],
    key: HMAC_SECRET,
    issuer: "me",
    audience: ["us"],
  });
  const tokens = [
    await signJwt(hmac, "HS256", claims({ iss: "you" })),
    await signJwt(hmac, "HS256", claims({ iss: "me", aud: "them" })),
    await signJwt(hmac, "HS256", claims({ exp: NOW / 1000 - 3600 })),
    await signJwt(hmacSigner(encoder.encode("wrong")), "HS256", claims()),
  ];
  for (const token of tokens) {
    const result = await check.verify(token);
    if (result.ok) assert.fail("expected a refusal");
    for (const part of token.split(".")) assert.ok(!result.reason.includes(part), result.reason);
    assert.ok(!result.reason.includes(HMAC_SECRET));
  }
});

Deno.test("looksLikeJwt tells JWTs from opaque API keys", async () => {
  assert.equal(JwtVerifier.looksLikeJwt(await signJwt(hmac, "HS256", claims())), true);
  assert.equal(JwtVerifier.looksLikeJwt(await signJwt(rsaSign, "RS256", claims())), true);
  for (
    const value of [
      "",
      "sk-live-1234567890",
      "a.b.c",
      "..",
      `${base64urlJson({ typ: "JWT" })}.e30.c2ln`,
      `${base64urlJson({ alg: "HS256" })}..c2ln`,
      `${base64urlJson({ alg: "HS256" })}.e30.c2ln.extra`,
      `${base64urlJson({ alg: "HS256" })}.e30.sig+`,
      `${base64urlJson({ alg: "HS256" })}.${"A".repeat(16 * 1024)}.c2ln`,
    ]
  ) {
    assert.equal(JwtVerifier.looksLikeJwt(value), false, value.slice(0, 40));
  }
});

/**
 * Verification of the JWTs clients send as `Authorization: Bearer …` tokens. Signatures and
 * claims are checked by [jose](https://github.com/panva/jose); this module reads a configured key,
 * leaves a JWKS to `_jwks.ts`, and says why a token was refused.
 *
 * A token passes when its header names an accepted algorithm, its signature matches a configured
 * key of the family that algorithm needs, it has an expiry that has not passed, it is not used
 * before its `nbf` or `iat`, and its issuer and audience are accepted when those are configured.
 * Times are compared with a leeway, `clockSkew`, in both directions.
 *
 * Keys come either from one configured key or from a JWKS URL:
 *
 * - A configured key is an HMAC secret, a PEM SPKI public key (`-----BEGIN PUBLIC KEY-----`) or a
 *   JWK as JSON text. Text that contains `-----BEGIN` is always read as PEM and text that starts
 *   with `{` as a JWK, so a public key can never end up used as an HMAC secret.
 * - A JWKS is fetched on first use and kept for `jwksTtl`; jose picks its keys (public ones only)
 *   by `kid`, `alg`, `kty`, `crv`, `use` and `key_ops`. A token no kept key fits makes the set be
 *   fetched again, at most once every 10 s, so that rotated keys are picked up. Verifications at
 *   the same time share one fetch; a failed fetch refuses the token and is not tried again for
 *   10 s.
 *
 * Every key fits one family (HMAC secret, RSA, P-256, P-384, Ed25519) and is only ever used with
 * the algorithms of that family, which rules out algorithm confusion; a JWK that names an `alg`
 * is only used with that algorithm. A public key is imported into WebCrypto once per algorithm;
 * a JWKS fetch that brings the same set again keeps its imports.
 *
 * {@linkcode JwtVerifier.verify} never throws: a refused token gives a short reason meant for logs,
 * which never contains the token or key material.
 * @module
 */
import { createPublicKey } from "node:crypto";
import {
  base64url,
  decodeJwt,
  decodeProtectedHeader,
  errors,
  type JWK,
  type JWTPayload,
  jwtVerify,
  type JWTVerifyOptions,
} from "jose";
import { Jwks, type JwksFetch } from "./_jwks.ts";
import { quote } from "./_quote.ts";

/** The signature algorithms a verifier can accept; `none` is never one of them. */
export const JWT_ALGORITHMS = [
  "HS256",
  "HS384",
  "HS512",
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "EdDSA",
] as const;

/** A signature algorithm, as a JWT header names it in `alg`. */
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];

/** How tokens are verified. Exactly one of `jwksUrl` and `key` is set. */
export interface JwtSettings {
  /**
   * Algorithms accepted; a token whose header names another is refused, which pins against
   * algorithm confusion and `none`.
   */
  readonly algorithms: readonly JwtAlgorithm[];
  /** Where the JSON Web Key Set with the signing keys is fetched from. */
  readonly jwksUrl?: string;
  /** One key: an HMAC secret (for HS*), a PEM SPKI public key, or a JWK as JSON text. */
  readonly key?: string;
  /** The one issuer accepted; when set, the token's `iss` must equal it. */
  readonly issuer?: string;
  /** Accepted audiences; when set, the token's `aud` (string or array) must contain one. */
  readonly audience?: readonly string[];
  /** Leeway for `exp`, `nbf` and `iat`, in ms. @default 30_000 */
  readonly clockSkew?: number;
  /** How long a fetched JWKS is kept, in ms. @default 300_000 */
  readonly jwksTtl?: number;
}

/** What came of a verification: the token's claims, or why it was refused. */
export type JwtResult =
  | { readonly ok: true; readonly claims: Readonly<Record<string, unknown>> }
  | { readonly ok: false; readonly reason: string };

/** `fetch`, injectable for tests. */
export type JwtFetch = JwksFetch;

/** Options for {@linkcode JwtVerifier}. */
export interface JwtVerifierOptions {
  /** Used to fetch the JWKS. @default fetch */
  readonly fetch?: JwtFetch;
  /** Clock, in ms. @default Date.now */
  readonly now?: () => number;
}

/** Tokens longer than this many characters are refused before anything else is looked at. */
const MAX_TOKEN_LENGTH = 16 * 1024;

const DEFAULT_CLOCK_SKEW = 30_000;
const DEFAULT_JWKS_TTL = 300_000;

/**
 * Unpadded base64url, as compact JWTs and JWK members are written. jose's decoder also takes
 * padding and white space, so parts are held to this first.
 */
const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** The kinds of key; each algorithm works with exactly one. */
type KeyFamily = "oct" | "RSA" | "P-256" | "P-384" | "Ed25519";

const FAMILY_NAMES: Record<KeyFamily, string> = {
  oct: "an HMAC secret",
  RSA: "an RSA key",
  "P-256": "a P-256 key",
  "P-384": "a P-384 key",
  Ed25519: "an Ed25519 key",
};

const FAMILIES: Record<JwtAlgorithm, KeyFamily> = {
  HS256: "oct",
  HS384: "oct",
  HS512: "oct",
  RS256: "RSA",
  RS384: "RSA",
  RS512: "RSA",
  PS256: "RSA",
  PS384: "RSA",
  PS512: "RSA",
  ES256: "P-256",
  ES384: "P-384",
  EdDSA: "Ed25519",
};

/** The reasons for a token that lacks a claim jose was told to require. */
const MISSING_CLAIMS: Readonly<Record<string, string>> = {
  exp: "token has no expiry",
  iss: "token has no issuer",
  aud: "token has no audience",
};

/** The configured key. */
interface ConfiguredKey {
  readonly family: KeyFamily;
  /** The one algorithm a JWK says it is for. */
  readonly alg: string | undefined;
  /**
   * The key's public members only, as jose takes it. jose keeps the WebCrypto imports of a public
   * key by this object, so they last as long as the verifier does.
   */
  readonly jwk: JWK;
}

/** A key as jose verifies with it: a configured one, or one it imported from the JWKS. */
type VerificationKey = JWK | CryptoKey;

/** What one key made of a token: a verdict, or that it did not decide. */
type KeyOutcome = JwtResult | "mismatch" | "unusable";

/** Verifies client JWTs against one configured key or a JWKS. */
export class JwtVerifier {
  readonly #algorithms: ReadonlySet<string>;
  /** What jose checks, but the time, which is read per verification. */
  readonly #options: JWTVerifyOptions;
  readonly #clockSkew: number;
  readonly #keys: ConfiguredKey | Jwks;
  readonly #now: () => number;

  /**
   * Checks the settings and reads a configured key; throws a TypeError or RangeError when they
   * cannot work (no key and no JWKS URL, both, an unreadable key, a key no algorithm fits).
   */
  constructor(settings: JwtSettings, options: JwtVerifierOptions = {}) {
    if (settings.algorithms.length === 0) throw new RangeError("algorithms must not be empty");
    for (const alg of settings.algorithms) {
      if (!isAlgorithm(alg)) {
        throw new RangeError(`algorithm ${quote(String(alg))} is not supported`);
      }
    }
    this.#algorithms = new Set(settings.algorithms);
    this.#clockSkew = nonNegative("clockSkew", settings.clockSkew ?? DEFAULT_CLOCK_SKEW);
    this.#options = {
      algorithms: [...settings.algorithms],
      requiredClaims: ["exp"],
      clockTolerance: this.#clockSkew / 1000,
      ...(settings.issuer === undefined ? {} : { issuer: settings.issuer }),
      ...(settings.audience === undefined ? {} : { audience: [...settings.audience] }),
    };
    const ttl = nonNegative("jwksTtl", settings.jwksTtl ?? DEFAULT_JWKS_TTL);
    this.#now = options.now ?? Date.now;

    const { jwksUrl, key } = settings;
    if (key !== undefined && jwksUrl === undefined) {
      this.#keys = readKey(key);
      const { family } = this.#keys;
      if (!settings.algorithms.some((alg) => FAMILIES[alg] === family)) {
        throw new TypeError(`key is ${FAMILY_NAMES[family]}, which no accepted algorithm uses`);
      }
    } else if (jwksUrl !== undefined && key === undefined) {
      const url = URL.parse(jwksUrl);
      if (url === null || (url.protocol !== "https:" && url.protocol !== "http:")) {
        throw new TypeError("jwksUrl must be an http or https URL");
      }
      const fetchJwks = options.fetch ?? ((input, init) => fetch(input, init));
      this.#keys = new Jwks(url.href, { ttl, fetch: fetchJwks, now: this.#now });
    } else {
      throw new TypeError("exactly one of jwksUrl and key must be set");
    }
  }

  /**
   * Whether `token` looks like a JWT at all: three base64url parts, the first a JSON header that
   * names an algorithm. Cheap, and checks no signature; it tells JWTs from opaque API keys.
   */
  static looksLikeJwt(token: string): boolean {
    if (token.length > MAX_TOKEN_LENGTH) return false;
    const parts = token.split(".");
    if (parts.length !== 3 || parts[0] === "" || parts[1] === "") return false;
    if (!parts.every((part) => BASE64URL.test(part))) return false;
    return typeof attempt(() => decodeProtectedHeader(token))?.alg === "string";
  }

  /** Verifies `token`; never throws, and a refusal's reason never contains the token. */
  async verify(token: string): Promise<JwtResult> {
    try {
      return await this.#verify(token);
    } catch {
      return refuse("token could not be verified");
    }
  }

  async #verify(token: string): Promise<JwtResult> {
    const header = readHeader(token);
    if (typeof header === "string") return refuse(header);

    const alg = header.alg;
    if (typeof alg !== "string") return refuse("token header names no algorithm");
    if (alg === "none") return refuse('algorithm "none" is never accepted');
    if (!isAlgorithm(alg) || !this.#algorithms.has(alg)) {
      return refuse(`algorithm ${quote(alg)} is not accepted`);
    }
    // jose knows `b64`, which would let the payload go unencoded; no extension is wanted here.
    if (header.crit !== undefined) return refuse("token header has critical extensions");
    const kid = header.kid;
    if (kid !== undefined && typeof kid !== "string") {
      return refuse("token header kid is not a string");
    }

    const keys = this.#keys instanceof Jwks
      ? await this.#keys.keysFor(alg, kid)
      : configuredKeyFor(this.#keys, alg);
    if (typeof keys === "string") return refuse(keys);
    let usable = false;
    for (const key of keys) {
      const outcome = await this.#verifyWith(token, key);
      if (outcome === "unusable") continue;
      usable = true;
      if (outcome !== "mismatch") return outcome;
    }
    return refuse(
      usable ? "signature does not match" : `key could not be used with algorithm ${quote(alg)}`,
    );
  }

  /** What `key` makes of `token`: its claims, a refusal, or that it does not decide. */
  async #verifyWith(token: string, key: VerificationKey): Promise<KeyOutcome> {
    const now = this.#now();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, key, {
        ...this.#options,
        currentDate: new Date(now),
      }));
    } catch (error) {
      if (error instanceof errors.JWSSignatureVerificationFailed) return "mismatch";
      if (error instanceof errors.JOSEError) return refuse(joseReason(error));
      // jose throws plain errors for a key it cannot use: one WebCrypto would not import, or an
      // RSA key under 2048 bits.
      return "unusable";
    }
    // Without a maximum token age jose checks only that `iat` is a number, not that it has come.
    const { iat } = payload;
    if (iat !== undefined && iat * 1000 > now + this.#clockSkew) {
      return refuse(`token was issued in the future, at ${formatDate(iat)}`);
    }
    return { ok: true, claims: Object.freeze(payload) };
  }
}

function refuse(reason: string): JwtResult {
  return { ok: false, reason };
}

/** The configured key, when it fits `alg`, or why not. */
function configuredKeyFor(key: ConfiguredKey, alg: JwtAlgorithm): VerificationKey[] | string {
  return fits(key, alg)
    ? [key.jwk]
    : `algorithm ${quote(alg)} does not fit the key (${FAMILY_NAMES[key.family]})`;
}

/** The reason for what jose found wrong with a token whose signature matched. */
function joseReason(error: errors.JOSEError): string {
  if (error instanceof errors.JWTExpired || error instanceof errors.JWTClaimValidationFailed) {
    const { claim, reason, payload } = error;
    if (reason === "missing") return MISSING_CLAIMS[claim] ?? `token has no claim ${quote(claim)}`;
    // jose's only other reason for a claim it reads itself: a NumericDate that is no number.
    if (reason === "invalid") return `claim ${quote(claim)} is not a number`;
    const value = payload[claim];
    switch (claim) {
      case "exp":
        return `token expired at ${formatDate(Number(value))}`;
      case "nbf":
        return `token is not valid before ${formatDate(Number(value))}`;
      case "iss":
        return `issuer ${quote(String(value))} is not accepted`;
      case "aud":
        return `audience ${quote(JSON.stringify(value))} is not accepted`;
      default:
        return `claim ${quote(claim)} is not accepted`;
    }
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return "algorithm is not accepted";
  return `token is not valid (${error.code})`;
}

function isAlgorithm(value: string): value is JwtAlgorithm {
  return (JWT_ALGORITHMS as readonly string[]).includes(value);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isBase64Url(text: string): boolean {
  return BASE64URL.test(text) && text.length % 4 !== 1;
}

/** What `read` gives, or undefined when it throws. */
function attempt<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

function nonNegative(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) {
    throw new RangeError(`${name} must be a non-negative number, got ${value}`);
  }
  return value;
}

/** A NumericDate (seconds) as ISO text, or as the number when no Date can hold it. */
function formatDate(seconds: number): string {
  const date = new Date(seconds * 1000);
  return Number.isNaN(date.getTime()) ? `${seconds}` : date.toISOString();
}

function fits(key: ConfiguredKey, alg: JwtAlgorithm): boolean {
  if (key.family !== FAMILIES[alg]) return false;
  return key.alg === undefined || key.alg === alg || (key.alg === "Ed25519" && alg === "EdDSA");
}

/**
 * The header of a token that has the form of a signed JWT, or why it has not. jose reads the
 * payload only once the signature matched; it is read here too, so that a malformed payload is
 * named as such rather than as a signature that does not match.
 */
function readHeader(token: string): Record<string, unknown> | string {
  if (typeof token !== "string" || token.length === 0) return "token is empty";
  if (token.length > MAX_TOKEN_LENGTH) return "token is too long";
  const parts = token.split(".");
  if (parts.length !== 3) return "token is not a JWT";
  const [headerPart = "", payloadPart = "", signaturePart = ""] = parts;
  const header = BASE64URL.test(headerPart)
    ? attempt<Record<string, unknown>>(() => decodeProtectedHeader(token))
    : undefined;
  if (header === undefined) return "token header is not a base64url JSON object";
  if (!BASE64URL.test(payloadPart) || attempt(() => decodeJwt(token)) === undefined) {
    return "token payload is not a base64url JSON object";
  }
  if (!isBase64Url(signaturePart)) return "token signature is not base64url";
  return header;
}

/** Reads a configured key; throws a TypeError, without the key in it, when it cannot be used. */
function readKey(text: string): ConfiguredKey {
  const trimmed = text.trim();
  if (trimmed.includes("-----BEGIN")) return readPem(trimmed);
  if (trimmed.startsWith("{")) {
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch {
      throw new TypeError("key looks like a JWK but is not valid JSON");
    }
    const key = readJwk(value);
    if (typeof key === "string") throw new TypeError(`key ${key}`);
    return key;
  }
  if (text.length === 0) throw new TypeError("key must not be empty");
  return {
    family: "oct",
    alg: undefined,
    jwk: Object.freeze({ kty: "oct", k: base64url.encode(text) }),
  };
}

function readPem(text: string): ConfiguredKey {
  if (!/^-----BEGIN PUBLIC KEY-----[A-Za-z0-9+/=\s]+-----END PUBLIC KEY-----$/.test(text)) {
    throw new TypeError("key must be a PEM SPKI public key (-----BEGIN PUBLIC KEY-----)");
  }
  // jose imports SPKI only asynchronously and for one given algorithm. node:crypto reads it at
  // once, so that a key that no accepted algorithm fits stops the start, as for a JWK.
  const jwk = attempt(() => createPublicKey(text).export({ format: "jwk" }));
  const key = jwk === undefined ? undefined : readJwk(jwk);
  if (key === undefined || typeof key === "string") {
    throw new TypeError(
      "key is not valid PEM, or a PEM public key of a type that is not supported",
    );
  }
  return key;
}

/** A JWK read as the configured key, keeping only its public parts; or why it cannot be one. */
function readJwk(value: unknown): ConfiguredKey | string {
  if (!isObject(value)) return "is not a JSON object";
  const { kty, alg, use } = value;
  const keyOps = value.key_ops;
  if (alg !== undefined && typeof alg !== "string") return "has an alg that is not a string";
  if (use !== undefined && use !== "sig") return "is not meant for signatures";
  // A private JWK says "sign" for the key whose public part is used here.
  const ops: unknown[] = Array.isArray(keyOps) ? keyOps : [];
  if (keyOps !== undefined && !ops.includes("verify") && !ops.includes("sign")) {
    return "is not meant for signatures";
  }
  const text = (name: string): string | undefined => {
    const field = value[name];
    return typeof field === "string" && field !== "" && isBase64Url(field) ? field : undefined;
  };
  const make = (family: KeyFamily, jwk: JWK): ConfiguredKey => ({
    family,
    alg,
    jwk: Object.freeze(jwk),
  });
  switch (kty) {
    case "oct": {
      const k = text("k");
      if (k === undefined) return "has no valid k";
      return make("oct", { kty, k });
    }
    case "RSA": {
      const n = text("n");
      const e = text("e");
      if (n === undefined || e === undefined) return "has no valid n and e";
      return make("RSA", { kty, n, e });
    }
    case "EC": {
      const { crv } = value;
      const x = text("x");
      const y = text("y");
      if (crv !== "P-256" && crv !== "P-384") return "is on a curve that is not supported";
      if (x === undefined || y === undefined) return "has no valid x and y";
      return make(crv, { kty, crv, x, y });
    }
    case "OKP": {
      const x = text("x");
      if (value.crv !== "Ed25519") return "is on a curve that is not supported";
      if (x === undefined) return "has no valid x";
      return make("Ed25519", { kty, crv: "Ed25519", x });
    }
    default:
      return "has a key type that is not supported";
  }
}

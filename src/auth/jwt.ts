/**
 * Verification of the JWTs clients send as `Authorization: Bearer …` tokens.
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
 * - A JWKS is fetched on first use and kept for `jwksTtl`. A key is picked by the token's `kid`, or,
 *   for a token without one, among the first few keys that fit its algorithm. A `kid` (or an
 *   algorithm) that no kept key has makes the set be fetched again, at most once every 10 s, so
 *   that rotated keys are picked up. Verifications at the same time share one fetch; a failed
 *   fetch refuses the token and is not tried again for 10 s.
 *
 * Every key fits one family (HMAC secret, RSA, P-256, P-384, Ed25519) and is only ever used with
 * the algorithms of that family, which rules out algorithm confusion; a JWK that names an `alg`
 * is only used with that algorithm. Keys are imported into WebCrypto once per key and algorithm.
 *
 * {@linkcode JwtVerifier.verify} never throws: a refused token gives a short reason meant for logs,
 * which never contains the token or key material.
 * @module
 */

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
export type JwtFetch = (input: string, init: RequestInit) => Promise<Response>;

/** Options for {@linkcode JwtVerifier}. */
export interface JwtVerifierOptions {
  /** Used to fetch the JWKS. @default fetch */
  readonly fetch?: JwtFetch;
  /** Clock, in ms. @default Date.now */
  readonly now?: () => number;
}

/** Tokens longer than this many characters are refused before anything else is looked at. */
const MAX_TOKEN_LENGTH = 16 * 1024;
/** A JWKS is fetched again, for an unknown `kid` or after a failure, at most this often (ms). */
const REFETCH_INTERVAL = 10_000;
/** ms a JWKS fetch, body included, may take. */
const JWKS_TIMEOUT = 5_000;
/** A JWKS body larger than this many characters is refused. */
const MAX_JWKS_LENGTH = 512 * 1024;
/** Keys of a JWKS past this many are ignored. */
const MAX_JWKS_KEYS = 100;
/** A token without `kid` is tried against at most this many keys of a JWKS. */
const MAX_CANDIDATES = 4;

const DEFAULT_CLOCK_SKEW = 30_000;
const DEFAULT_JWKS_TTL = 300_000;

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

/** How WebCrypto imports and checks keys for one algorithm. */
interface AlgorithmSpec {
  readonly family: KeyFamily;
  readonly importParams:
    | AlgorithmIdentifier
    | HmacImportParams
    | RsaHashedImportParams
    | EcKeyImportParams;
  readonly verifyParams: AlgorithmIdentifier | RsaPssParams | EcdsaParams;
  /** Bytes of a signature, when fixed. */
  readonly signatureLength?: number;
}

function hmac(bits: 256 | 384 | 512): AlgorithmSpec {
  return {
    family: "oct",
    importParams: { name: "HMAC", hash: `SHA-${bits}` },
    verifyParams: { name: "HMAC" },
    signatureLength: bits / 8,
  };
}

function rsa(name: "RSASSA-PKCS1-v1_5" | "RSA-PSS", bits: 256 | 384 | 512): AlgorithmSpec {
  return {
    family: "RSA",
    importParams: { name, hash: `SHA-${bits}` },
    verifyParams: name === "RSA-PSS" ? { name, saltLength: bits / 8 } : { name },
  };
}

const SPECS: Record<JwtAlgorithm, AlgorithmSpec> = {
  HS256: hmac(256),
  HS384: hmac(384),
  HS512: hmac(512),
  RS256: rsa("RSASSA-PKCS1-v1_5", 256),
  RS384: rsa("RSASSA-PKCS1-v1_5", 384),
  RS512: rsa("RSASSA-PKCS1-v1_5", 512),
  PS256: rsa("RSA-PSS", 256),
  PS384: rsa("RSA-PSS", 384),
  PS512: rsa("RSA-PSS", 512),
  ES256: {
    family: "P-256",
    importParams: { name: "ECDSA", namedCurve: "P-256" },
    verifyParams: { name: "ECDSA", hash: "SHA-256" },
    signatureLength: 64,
  },
  ES384: {
    family: "P-384",
    importParams: { name: "ECDSA", namedCurve: "P-384" },
    verifyParams: { name: "ECDSA", hash: "SHA-384" },
    signatureLength: 96,
  },
  EdDSA: {
    family: "Ed25519",
    importParams: { name: "Ed25519" },
    verifyParams: { name: "Ed25519" },
    signatureLength: 64,
  },
};

/** Key bytes or a public JWK, as WebCrypto imports them. */
type KeyMaterial =
  | { readonly format: "raw" | "spki"; readonly data: Uint8Array<ArrayBuffer> }
  | { readonly format: "jwk"; readonly data: JsonWebKey };

/** A key tokens may be checked against, with its imports. */
interface VerificationKey {
  /** Tells keys apart across JWKS fetches, so that an unchanged key keeps its imports. */
  readonly id: string;
  readonly family: KeyFamily;
  readonly kid: string | undefined;
  /** The one algorithm a JWK says it is for. */
  readonly alg: string | undefined;
  readonly material: KeyMaterial;
  /** Imported keys by algorithm; undefined when the import failed. */
  readonly imported: Map<JwtAlgorithm, Promise<CryptoKey | undefined>>;
}

/** A fetched JWKS. */
interface KeySet {
  readonly keys: readonly VerificationKey[];
  readonly fetchedAt: number;
}

/** A token split and decoded, not yet verified. */
interface ParsedToken {
  readonly header: Record<string, unknown>;
  readonly payload: Record<string, unknown>;
  readonly signingInput: Uint8Array<ArrayBuffer>;
  readonly signature: Uint8Array<ArrayBuffer>;
}

/** Verifies client JWTs against one configured key or a JWKS. */
export class JwtVerifier {
  readonly #algorithms: ReadonlySet<string>;
  readonly #issuer: string | undefined;
  readonly #audience: ReadonlySet<string> | undefined;
  readonly #clockSkew: number;
  readonly #jwksTtl: number;
  readonly #jwksUrl: string | undefined;
  readonly #key: VerificationKey | undefined;
  readonly #fetch: JwtFetch;
  readonly #now: () => number;
  #jwks: KeySet | undefined;
  #jwksFailure: string | undefined;
  #lastFetchAt: number | undefined;
  #inflight: Promise<void> | undefined;

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
    this.#issuer = settings.issuer;
    this.#audience = settings.audience === undefined ? undefined : new Set(settings.audience);
    this.#clockSkew = nonNegative("clockSkew", settings.clockSkew ?? DEFAULT_CLOCK_SKEW);
    this.#jwksTtl = nonNegative("jwksTtl", settings.jwksTtl ?? DEFAULT_JWKS_TTL);
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.#now = options.now ?? Date.now;

    if ((settings.jwksUrl === undefined) === (settings.key === undefined)) {
      throw new TypeError("exactly one of jwksUrl and key must be set");
    }
    if (settings.jwksUrl !== undefined) {
      const url = URL.parse(settings.jwksUrl);
      if (url === null || (url.protocol !== "https:" && url.protocol !== "http:")) {
        throw new TypeError("jwksUrl must be an http or https URL");
      }
      this.#jwksUrl = url.href;
    }
    if (settings.key !== undefined) {
      const key = readKey(settings.key);
      if (!settings.algorithms.some((alg) => SPECS[alg].family === key.family)) {
        throw new TypeError(`key is ${FAMILY_NAMES[key.family]}, which no accepted algorithm uses`);
      }
      this.#key = key;
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
    const header = decodeJsonObject(parts[0] ?? "");
    return header !== undefined && typeof header.alg === "string";
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
    const parsed = parseToken(token);
    if (typeof parsed === "string") return refuse(parsed);
    const { header, payload } = parsed;

    const alg = header.alg;
    if (typeof alg !== "string") return refuse("token header names no algorithm");
    if (alg === "none") return refuse('algorithm "none" is never accepted');
    if (!isAlgorithm(alg) || !this.#algorithms.has(alg)) {
      return refuse(`algorithm ${quote(alg)} is not accepted`);
    }
    if (header.crit !== undefined) return refuse("token header has critical extensions");
    const kid = header.kid;
    if (kid !== undefined && typeof kid !== "string") {
      return refuse("token header kid is not a string");
    }
    const spec = SPECS[alg];
    if (spec.signatureLength !== undefined && parsed.signature.length !== spec.signatureLength) {
      return refuse("signature does not match");
    }

    const keys = await this.#keysFor(alg, kid);
    if (typeof keys === "string") return refuse(keys);
    let imported = false;
    for (const key of keys) {
      const cryptoKey = await importFor(key, alg);
      if (cryptoKey === undefined) continue;
      imported = true;
      const valid = await crypto.subtle.verify(
        spec.verifyParams,
        cryptoKey,
        parsed.signature,
        parsed.signingInput,
      );
      if (valid) return this.#checkClaims(payload);
    }
    return refuse(imported ? "signature does not match" : "key could not be imported");
  }

  /** The keys to try for a token, or why there are none. */
  async #keysFor(alg: JwtAlgorithm, kid: string | undefined): Promise<VerificationKey[] | string> {
    const key = this.#key;
    if (key !== undefined) {
      return fits(key, alg)
        ? [key]
        : `algorithm ${quote(alg)} does not fit the key (${FAMILY_NAMES[key.family]})`;
    }
    const pick = (set: readonly VerificationKey[]) =>
      kid === undefined ? set.filter((k) => fits(k, alg)) : set.filter((k) => k.kid === kid);
    let set = await this.#keySet(false);
    if (typeof set === "string") return set;
    let found = pick(set);
    if (found.length === 0) {
      set = await this.#keySet(true);
      if (typeof set === "string") return set;
      found = pick(set);
    }
    if (found.length === 0) {
      return kid === undefined
        ? `no key fits algorithm ${quote(alg)}`
        : `no key has id ${quote(kid)}`;
    }
    const fitting = found.filter((k) => fits(k, alg));
    if (fitting.length === 0) {
      return `key ${quote(kid ?? "")} does not fit algorithm ${quote(alg)}`;
    }
    return fitting.slice(0, MAX_CANDIDATES);
  }

  /**
   * The current JWKS keys, fetching them when none are kept or, if `refresh`, when the last fetch
   * is at least 10 s old; or why there are none.
   */
  async #keySet(refresh: boolean): Promise<readonly VerificationKey[] | string> {
    if (this.#inflight !== undefined) await this.#inflight;
    const now = this.#now();
    const mayFetch = this.#lastFetchAt === undefined || now - this.#lastFetchAt >= REFETCH_INTERVAL;
    const kept = this.#freshKeys(now);
    if (kept !== undefined && !(refresh && mayFetch)) return kept;
    if (kept === undefined && !mayFetch && this.#jwksFailure !== undefined) {
      return this.#jwksFailure;
    }
    if (this.#inflight === undefined) {
      this.#inflight = this.#fetchJwks().finally(() => {
        this.#inflight = undefined;
      });
    }
    await this.#inflight;
    return this.#freshKeys(this.#now()) ?? this.#jwksFailure ?? "JWKS is not available";
  }

  #freshKeys(now: number): readonly VerificationKey[] | undefined {
    const set = this.#jwks;
    return set !== undefined && now - set.fetchedAt < this.#jwksTtl ? set.keys : undefined;
  }

  /** Fetches the JWKS and keeps it, or the reason it failed; never rejects. */
  async #fetchJwks(): Promise<void> {
    this.#lastFetchAt = this.#now();
    const result = await this.#requestJwks();
    if (typeof result === "string") {
      this.#jwksFailure = result;
      return;
    }
    const previous = new Map((this.#jwks?.keys ?? []).map((key) => [key.id, key]));
    this.#jwksFailure = undefined;
    this.#jwks = {
      keys: result.map((key) => previous.get(key.id) ?? key),
      fetchedAt: this.#now(),
    };
  }

  async #requestJwks(): Promise<VerificationKey[] | string> {
    const url = this.#jwksUrl;
    if (url === undefined) return "no JWKS URL is set";
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), JWKS_TIMEOUT);
    let text: string;
    try {
      const response = await this.#fetch(url, {
        method: "GET",
        headers: { accept: "application/json" },
        redirect: "manual",
        signal: controller.signal,
      });
      if (!response.ok) {
        await response.body?.cancel().catch(() => {});
        return `could not fetch the JWKS: HTTP ${response.status}`;
      }
      const length = Number(response.headers.get("content-length") ?? 0);
      if (length > MAX_JWKS_LENGTH) {
        await response.body?.cancel().catch(() => {});
        return "JWKS is too large";
      }
      text = await response.text();
    } catch {
      return controller.signal.aborted
        ? "could not fetch the JWKS: timed out"
        : "could not fetch the JWKS: request failed";
    } finally {
      clearTimeout(timer);
    }
    if (text.length > MAX_JWKS_LENGTH) return "JWKS is too large";
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return "JWKS is not valid JSON";
    }
    if (!isObject(body) || !Array.isArray(body.keys)) return "JWKS has no keys array";
    const keys: VerificationKey[] = [];
    for (const entry of body.keys.slice(0, MAX_JWKS_KEYS)) {
      const key = readJwk(entry);
      if (typeof key !== "string") keys.push(key);
    }
    return keys;
  }

  /** Checks the claims of a token whose signature matched. */
  #checkClaims(payload: Record<string, unknown>): JwtResult {
    const now = this.#now();
    const skew = this.#clockSkew;
    const { exp, nbf, iat } = payload;
    if (exp === undefined) return refuse("token has no expiry");
    if (!isNumericDate(exp)) return refuse('claim "exp" is not a number');
    if (now >= exp * 1000 + skew) return refuse(`token expired at ${formatDate(exp)}`);
    if (nbf !== undefined) {
      if (!isNumericDate(nbf)) return refuse('claim "nbf" is not a number');
      if (nbf * 1000 > now + skew) return refuse(`token is not valid before ${formatDate(nbf)}`);
    }
    if (iat !== undefined) {
      if (!isNumericDate(iat)) return refuse('claim "iat" is not a number');
      if (iat * 1000 > now + skew) {
        return refuse(`token was issued in the future, at ${formatDate(iat)}`);
      }
    }
    if (this.#issuer !== undefined) {
      const iss = payload.iss;
      if (iss === undefined) return refuse("token has no issuer");
      if (iss !== this.#issuer) return refuse(`issuer ${quote(String(iss))} is not accepted`);
    }
    const accepted = this.#audience;
    if (accepted !== undefined) {
      const aud = payload.aud;
      if (aud === undefined) return refuse("token has no audience");
      const audiences = Array.isArray(aud) ? aud : [aud];
      if (!audiences.some((value) => typeof value === "string" && accepted.has(value))) {
        return refuse(`audience ${quote(JSON.stringify(aud))} is not accepted`);
      }
    }
    return { ok: true, claims: Object.freeze(payload) };
  }
}

function refuse(reason: string): JwtResult {
  return { ok: false, reason };
}

function isAlgorithm(value: string): value is JwtAlgorithm {
  return (JWT_ALGORITHMS as readonly string[]).includes(value);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isNumericDate(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value);
}

function nonNegative(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) {
    throw new RangeError(`${name} must be a non-negative number, got ${value}`);
  }
  return value;
}

/** A value from a token, quoted and cut short, for a reason. */
function quote(value: string): string {
  return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value);
}

/** A NumericDate (seconds) as ISO text, or as the number when no Date can hold it. */
function formatDate(seconds: number): string {
  const date = new Date(seconds * 1000);
  return Number.isNaN(date.getTime()) ? `${seconds}` : date.toISOString();
}

function fits(key: VerificationKey, alg: JwtAlgorithm): boolean {
  if (key.family !== SPECS[alg].family) return false;
  return key.alg === undefined || key.alg === alg || (key.alg === "Ed25519" && alg === "EdDSA");
}

/** The key imported for `alg`, once; undefined when WebCrypto refused it. */
function importFor(key: VerificationKey, alg: JwtAlgorithm): Promise<CryptoKey | undefined> {
  let imported = key.imported.get(alg);
  if (imported === undefined) {
    const params = SPECS[alg].importParams;
    const { material } = key;
    const importing = material.format === "jwk"
      ? crypto.subtle.importKey("jwk", material.data, params, false, ["verify"])
      : crypto.subtle.importKey(material.format, material.data, params, false, ["verify"]);
    imported = importing.catch(() => undefined);
    key.imported.set(alg, imported);
  }
  return imported;
}

function decodeBase64Url(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (!BASE64URL.test(text) || text.length % 4 === 1) return undefined;
  const padded = text.replaceAll("-", "+").replaceAll("_", "/") +
    "==".slice(0, (4 - (text.length % 4)) % 4);
  return decodeBinary(padded);
}

function decodeBinary(base64: string): Uint8Array<ArrayBuffer> | undefined {
  let binary: string;
  try {
    binary = atob(base64);
  } catch {
    return undefined;
  }
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** A base64url part decoded as a JSON object; undefined when it is not one. */
function decodeJsonObject(part: string): Record<string, unknown> | undefined {
  const bytes = decodeBase64Url(part);
  if (bytes === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
    return isObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function parseToken(token: string): ParsedToken | string {
  if (typeof token !== "string" || token.length === 0) return "token is empty";
  if (token.length > MAX_TOKEN_LENGTH) return "token is too long";
  const parts = token.split(".");
  if (parts.length !== 3) return "token is not a JWT";
  const [headerPart = "", payloadPart = "", signaturePart = ""] = parts;
  const header = decodeJsonObject(headerPart);
  if (header === undefined) return "token header is not a base64url JSON object";
  const payload = decodeJsonObject(payloadPart);
  if (payload === undefined) return "token payload is not a base64url JSON object";
  const signature = decodeBase64Url(signaturePart);
  if (signature === undefined) return "token signature is not base64url";
  const signingInput = new TextEncoder().encode(`${headerPart}.${payloadPart}`);
  return { header, payload, signingInput, signature };
}

/** Reads a configured key; throws a TypeError, without the key in it, when it cannot be used. */
function readKey(text: string): VerificationKey {
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
  return newKey("", "oct", undefined, undefined, {
    format: "raw",
    data: new TextEncoder().encode(text),
  });
}

function newKey(
  id: string,
  family: KeyFamily,
  kid: string | undefined,
  alg: string | undefined,
  material: KeyMaterial,
): VerificationKey {
  return { id, family, kid, alg, material, imported: new Map() };
}

function readPem(text: string): VerificationKey {
  const match = /^-----BEGIN PUBLIC KEY-----([A-Za-z0-9+/=\s]+)-----END PUBLIC KEY-----$/.exec(
    text,
  );
  if (match === null) {
    throw new TypeError("key must be a PEM SPKI public key (-----BEGIN PUBLIC KEY-----)");
  }
  const der = decodeBinary((match[1] ?? "").replace(/\s+/g, ""));
  if (der === undefined || der.length === 0) throw new TypeError("key is not valid PEM");
  const family = spkiFamily(der);
  if (family === undefined) {
    throw new TypeError("key is a PEM public key of a type that is not supported");
  }
  return newKey("", family, undefined, undefined, { format: "spki", data: der });
}

/** One DER element: its tag and where its contents are. */
function readDer(
  bytes: Uint8Array,
  offset: number,
): { tag: number; start: number; end: number } | undefined {
  const tag = bytes[offset];
  const first = bytes[offset + 1];
  if (tag === undefined || first === undefined) return undefined;
  let start = offset + 2;
  let length = first;
  if (first >= 0x80) {
    const count = first & 0x7f;
    if (count === 0 || count > 3) return undefined;
    length = 0;
    for (let i = 0; i < count; i++) {
      const byte = bytes[start + i];
      if (byte === undefined) return undefined;
      length = length * 256 + byte;
    }
    start += count;
  }
  const end = start + length;
  return end > bytes.length ? undefined : { tag, start, end };
}

const OID_RSA = "2a864886f70d010101";
const OID_EC = "2a8648ce3d0201";
const OID_P256 = "2a8648ce3d030107";
const OID_P384 = "2b81040022";
const OID_ED25519 = "2b6570";

/** The family of an SPKI key, from its algorithm identifier; undefined when not supported. */
function spkiFamily(der: Uint8Array): KeyFamily | undefined {
  const spki = readDer(der, 0);
  if (spki?.tag !== 0x30) return undefined;
  const algorithm = readDer(der, spki.start);
  if (algorithm?.tag !== 0x30) return undefined;
  const oid = readDer(der, algorithm.start);
  if (oid?.tag !== 0x06) return undefined;
  const hex = (start: number, end: number) =>
    Array.from(der.subarray(start, end), (byte) => byte.toString(16).padStart(2, "0")).join("");
  switch (hex(oid.start, oid.end)) {
    case OID_RSA:
      return "RSA";
    case OID_ED25519:
      return "Ed25519";
    case OID_EC: {
      const curve = oid.end < algorithm.end ? readDer(der, oid.end) : undefined;
      if (curve?.tag !== 0x06) return undefined;
      const name = hex(curve.start, curve.end);
      return name === OID_P256 ? "P-256" : name === OID_P384 ? "P-384" : undefined;
    }
    default:
      return undefined;
  }
}

/** A JWK read as a verification key, keeping only its public parts; or why it cannot be one. */
function readJwk(value: unknown): VerificationKey | string {
  if (!isObject(value)) return "is not a JSON object";
  const { kty, kid, alg, use } = value;
  const keyOps = value.key_ops;
  if (kid !== undefined && typeof kid !== "string") return "has a kid that is not a string";
  if (alg !== undefined && typeof alg !== "string") return "has an alg that is not a string";
  if (use !== undefined && use !== "sig") return "is not meant for signatures";
  // A private JWK says "sign" for the key whose public part is used here.
  const ops: unknown[] = Array.isArray(keyOps) ? keyOps : [];
  if (keyOps !== undefined && !ops.includes("verify") && !ops.includes("sign")) {
    return "is not meant for signatures";
  }
  const text = (name: string): string | undefined => {
    const field = value[name];
    return typeof field === "string" && field !== "" && decodeBase64Url(field) !== undefined
      ? field
      : undefined;
  };
  const make = (family: KeyFamily, material: KeyMaterial): VerificationKey => {
    const data = material.format === "jwk" ? material.data : { k: value.k };
    return newKey(JSON.stringify([kid, alg, data]), family, kid, alg, material);
  };
  switch (kty) {
    case "oct": {
      const k = text("k");
      const data = k === undefined ? undefined : decodeBase64Url(k);
      if (data === undefined) return "has no valid k";
      return make("oct", { format: "raw", data });
    }
    case "RSA": {
      const n = text("n");
      const e = text("e");
      if (n === undefined || e === undefined) return "has no valid n and e";
      return make("RSA", { format: "jwk", data: { kty, n, e } });
    }
    case "EC": {
      const { crv } = value;
      const x = text("x");
      const y = text("y");
      if (crv !== "P-256" && crv !== "P-384") return "is on a curve that is not supported";
      if (x === undefined || y === undefined) return "has no valid x and y";
      return make(crv, { format: "jwk", data: { kty, crv, x, y } });
    }
    case "OKP": {
      const x = text("x");
      if (value.crv !== "Ed25519") return "is on a curve that is not supported";
      if (x === undefined) return "has no valid x";
      return make("Ed25519", { format: "jwk", data: { kty, crv: "Ed25519", x } });
    }
    default:
      return "has a key type that is not supported";
  }
}

/**
 * The JSON Web Key Set of a JWT issuer: fetched, kept and fetched again on an injected clock, with
 * its keys picked and imported by jose's `createLocalJWKSet` (public keys only, by `kid`, `alg`,
 * `kty`, `crv`, `use` and `key_ops`).
 *
 * jose's `createRemoteJWKSet` is not used: it reads `Date.now()` for its cache and cooldown and
 * holds back no failed fetch, where the policy here runs on the verifier's clock, which tests
 * drive without waiting.
 * @module
 */
import { createLocalJWKSet, errors, type JWK } from "jose";
import { deepEqual, isJsonObject } from "../lib/json.ts";
import { quote } from "./_quote.ts";

/** `fetch`, injectable for tests. */
export type JwksFetch = (input: string, init: RequestInit) => Promise<Response>;

/** How a {@linkcode Jwks} fetches and keeps the set. */
export interface JwksOptions {
  /** How long a fetched set is kept, in ms. */
  readonly ttl: number;
  readonly fetch: JwksFetch;
  /** Clock, in ms. */
  readonly now: () => number;
}

/** The set is fetched again, for a token no key fits or after a failure, at most this often (ms). */
const REFETCH_INTERVAL = 10_000;
/** ms a fetch, body included, may take. */
const FETCH_TIMEOUT = 5_000;
/** A body larger than this many characters is refused. */
const MAX_LENGTH = 512 * 1024;
/** Keys of a set past this many are ignored. */
const MAX_KEYS = 100;
/** A token that several keys fit is tried against at most this many. */
const MAX_CANDIDATES = 4;

/** A fetched set. */
interface KeySet {
  /** jose's pick over the keys; it keeps each key's imports. */
  readonly select: ReturnType<typeof createLocalJWKSet>;
  /** The `kid`s of the set, to tell an unknown `kid` from one whose key does not fit. */
  readonly kids: ReadonlySet<string>;
  /** The keys as fetched, to tell whether a fetch brought the same set again. */
  readonly keys: readonly JWK[];
  readonly fetchedAt: number;
}

/** The JWKS at one URL, fetched on first use; verifications at the same time share one fetch. */
export class Jwks {
  readonly #url: string;
  readonly #ttl: number;
  readonly #fetch: JwksFetch;
  readonly #now: () => number;
  #set: KeySet | undefined;
  #failure: string | undefined;
  #lastFetchAt: number | undefined;
  #inflight: Promise<void> | undefined;

  constructor(url: string, options: JwksOptions) {
    this.#url = url;
    this.#ttl = options.ttl;
    this.#fetch = options.fetch;
    this.#now = options.now;
  }

  /**
   * The keys to try for a token with `alg` and `kid`, imported by jose, or why there are none. A
   * token no kept key fits makes the set be fetched again, at most once every 10 s, so that
   * rotated keys are picked up.
   */
  async keysFor(alg: string, kid: string | undefined): Promise<CryptoKey[] | string> {
    let set = await this.#keySet(false);
    if (typeof set === "string") return set;
    let found = await candidates(set, alg, kid);
    if (found === undefined) {
      set = await this.#keySet(true);
      if (typeof set === "string") return set;
      found = await candidates(set, alg, kid);
    }
    if (found !== undefined) return found;
    if (kid === undefined) return `no key fits algorithm ${quote(alg)}`;
    return set.kids.has(kid)
      ? `key ${quote(kid)} does not fit algorithm ${quote(alg)}`
      : `no key has id ${quote(kid)}`;
  }

  /**
   * The current JWKS, fetching it when none is kept or, if `refresh`, when the last fetch is at
   * least 10 s old; or why there is none.
   */
  async #keySet(refresh: boolean): Promise<KeySet | string> {
    if (this.#inflight !== undefined) await this.#inflight;
    const now = this.#now();
    const mayFetch = this.#lastFetchAt === undefined || now - this.#lastFetchAt >= REFETCH_INTERVAL;
    const kept = this.#freshSet(now);
    if (kept !== undefined && !(refresh && mayFetch)) return kept;
    if (kept === undefined && !mayFetch && this.#failure !== undefined) {
      return this.#failure;
    }
    if (this.#inflight === undefined) {
      this.#inflight = this.#fetchSet().finally(() => {
        this.#inflight = undefined;
      });
    }
    await this.#inflight;
    return this.#freshSet(this.#now()) ?? this.#failure ?? "JWKS is not available";
  }

  #freshSet(now: number): KeySet | undefined {
    const set = this.#set;
    return set !== undefined && now - set.fetchedAt < this.#ttl ? set : undefined;
  }

  /** Fetches the JWKS and keeps it, or the reason it failed; never rejects. */
  async #fetchSet(): Promise<void> {
    this.#lastFetchAt = this.#now();
    const result = await this.#requestSet();
    if (typeof result === "string") {
      this.#failure = result;
      return;
    }
    this.#failure = undefined;
    const kept = this.#set;
    const fetchedAt = this.#now();
    if (kept !== undefined && deepEqual(kept.keys, result)) {
      this.#set = { ...kept, fetchedAt };
      return;
    }
    const kids = result.map((key) => key.kid).filter((kid) => typeof kid === "string");
    this.#set = {
      select: createLocalJWKSet({ keys: result }),
      kids: new Set(kids),
      keys: result,
      fetchedAt,
    };
  }

  async #requestSet(): Promise<JWK[] | string> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), FETCH_TIMEOUT);
    let text: string;
    try {
      const response = await this.#fetch(this.#url, {
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
      if (length > MAX_LENGTH) {
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
    if (text.length > MAX_LENGTH) return "JWKS is too large";
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return "JWKS is not valid JSON";
    }
    if (!isJsonObject(body) || !Array.isArray(body.keys)) return "JWKS has no keys array";
    // jose refuses a whole set for one member that is no object; such a member is left out here.
    return body.keys.filter(isJwkObject).slice(0, MAX_KEYS);
  }
}

/** The keys jose picks from `set` for a token, imported (none if it cannot); undefined if none. */
async function candidates(
  set: KeySet,
  alg: string,
  kid: string | undefined,
): Promise<CryptoKey[] | undefined> {
  try {
    return [await set.select(kid === undefined ? { alg } : { alg, kid })];
  } catch (error) {
    if (error instanceof errors.JWKSMultipleMatchingKeys) {
      // jose imports them as they are asked for, and leaves out those it cannot.
      const keys: CryptoKey[] = [];
      for await (const key of error) {
        keys.push(key);
        if (keys.length === MAX_CANDIDATES) break;
      }
      return keys;
    }
    // jose picks no key for an HMAC algorithm, as it takes no secrets from a key set.
    if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JOSENotSupported) {
      return undefined;
    }
    // The one key picked could not be imported.
    return [];
  }
}

/** A JSON object, which jose checks member by member when it picks and imports a key. */
function isJwkObject(value: unknown): value is JWK {
  return isJsonObject(value);
}

/**
 * The store behind the `cache` fallback strategy. When every backend instance fails, the gateway
 * can answer with the last successful non-streaming response to the same request. A request is
 * the same when its service, model, body and client credential all match; the credential is part
 * of the key so that an answer never reaches a client with a different API key, and it is only
 * ever fed into the hash, never kept. Entries expire a fixed time after they were stored and the
 * least recently used ones are dropped when the cache holds too many entries or too many bytes.
 * @module
 */
import { createHash } from "node:crypto";

/** What identifies a request for the response cache. */
export interface CacheKeyParts {
  readonly service: string;
  readonly model: string;
  /** The request body exactly as the client sent it. */
  readonly body: Uint8Array;
  /** The client's API key or bearer token; undefined for an anonymous client. */
  readonly credential: string | undefined;
}

/** A stored response. */
export interface CachedResponse {
  readonly status: number;
  readonly headers: readonly (readonly [string, string])[];
  readonly body: Uint8Array;
  /** When the response was stored, in the same clock as the `now` arguments. */
  readonly storedAt: number;
}

/** Limits of a {@linkcode ResponseCache}. */
export interface ResponseCacheSettings {
  /** The most entries kept at once. */
  readonly maxEntries: number;
  /** How long an entry can be used after it was stored, in milliseconds. */
  readonly ttl: number;
  /** The most body bytes kept at once; 64 MiB when not given. */
  readonly maxBytes?: number;
}

/** The total body bytes a cache keeps when its settings do not say. */
export const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;

const KEY_DOMAIN = "switchyard response cache v1";
const textEncoder = new TextEncoder();

/**
 * The cache key of a request: a hex SHA-256 digest over all parts. Each part is written with its
 * length in front, so no two different sets of parts are encoded alike, and an anonymous request
 * is told apart from one with an empty credential.
 */
export function cacheKey(parts: CacheKeyParts): string {
  const hash = createHash("sha256");
  const writePart = (bytes: Uint8Array): void => {
    hash.update(lengthPrefix(bytes.byteLength));
    hash.update(bytes);
  };
  writePart(textEncoder.encode(KEY_DOMAIN));
  writePart(textEncoder.encode(parts.service));
  writePart(textEncoder.encode(parts.model));
  writePart(parts.body);
  if (parts.credential === undefined) {
    hash.update(new Uint8Array([0]));
  } else {
    hash.update(new Uint8Array([1]));
    writePart(textEncoder.encode(parts.credential));
  }
  return hash.digest("hex");
}

function lengthPrefix(length: number): Uint8Array {
  const prefix = new Uint8Array(8);
  new DataView(prefix.buffer).setBigUint64(0, BigInt(length));
  return prefix;
}

/**
 * Responses by cache key, least recently used first. Bounded by the number of entries and by the
 * total size of the bodies; a body larger than a quarter of the byte limit is never stored. A hit
 * makes the entry the most recently used but does not extend its lifetime.
 */
export class ResponseCache {
  readonly #maxEntries: number;
  readonly #ttl: number;
  readonly #maxBytes: number;
  /** Map order is use order: the first entry is the least recently used. */
  readonly #entries = new Map<string, CachedResponse>();
  #bytes = 0;

  /** Throws a RangeError when a limit is not a positive number. */
  constructor(settings: ResponseCacheSettings) {
    const { maxEntries, ttl, maxBytes = DEFAULT_MAX_BYTES } = settings;
    if (!Number.isInteger(maxEntries) || maxEntries < 1) {
      throw new RangeError(`maxEntries must be a positive integer, got ${maxEntries}`);
    }
    if (!(ttl > 0)) throw new RangeError(`ttl must be a positive number, got ${ttl}`);
    if (!(maxBytes > 0)) {
      throw new RangeError(`maxBytes must be a positive number, got ${maxBytes}`);
    }
    this.#maxEntries = maxEntries;
    this.#ttl = ttl;
    this.#maxBytes = maxBytes;
  }

  /** The largest body kept: a quarter of all the bytes the cache may hold. */
  get maxEntryBytes(): number {
    return this.#maxBytes / 4;
  }

  /** The number of entries held, including expired ones not looked at since they expired. */
  get size(): number {
    return this.#entries.size;
  }

  /** The total size of the bodies held. */
  get bytes(): number {
    return this.#bytes;
  }

  /** The response stored under the key, unless there is none or it has expired. */
  get(key: string, now: number): CachedResponse | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    this.#delete(key, entry);
    if (now - entry.storedAt >= this.#ttl) return undefined;
    this.#entries.set(key, entry);
    this.#bytes += entry.body.byteLength;
    return entry;
  }

  /**
   * Stores a response under the key, replacing what was there, and drops the least recently used
   * entries until the cache is within its limits again. A body too large to store still removes
   * the older response under the key, so the cache never answers with an outdated one. Returns
   * whether the response was stored.
   */
  set(key: string, response: Omit<CachedResponse, "storedAt">, now: number): boolean {
    const previous = this.#entries.get(key);
    if (previous !== undefined) this.#delete(key, previous);
    if (response.body.byteLength > this.maxEntryBytes) return false;
    const entry: CachedResponse = {
      status: response.status,
      headers: response.headers.map(([name, value]) => [name, value] as const),
      body: response.body.slice(),
      storedAt: now,
    };
    this.#entries.set(key, entry);
    this.#bytes += entry.body.byteLength;
    this.#evictOverLimits();
    return true;
  }

  /** Removes every entry. */
  clear(): void {
    this.#entries.clear();
    this.#bytes = 0;
  }

  #delete(key: string, entry: CachedResponse): void {
    this.#entries.delete(key);
    this.#bytes -= entry.body.byteLength;
  }

  #evictOverLimits(): void {
    for (const [key, entry] of this.#entries) {
      if (this.#entries.size <= this.#maxEntries && this.#bytes <= this.#maxBytes) return;
      this.#delete(key, entry);
    }
  }
}

/** Headers that describe the original transfer rather than the content, so are not replayed. */
const DROPPED_HEADERS = new Set([
  "content-length",
  "transfer-encoding",
  "connection",
  "date",
  "age",
  "x-switchyard-fallback",
]);

/** Statuses whose responses cannot have a body. */
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

/**
 * Rebuilds a response from the cache, with an `age` header giving the whole seconds since it was
 * stored and `x-switchyard-fallback: cache` marking it as a fallback answer.
 */
export function toResponse(cached: CachedResponse, now: number): Response {
  const headers = new Headers();
  for (const [name, value] of cached.headers) {
    if (!DROPPED_HEADERS.has(name.toLowerCase())) headers.append(name, value);
  }
  const ageSeconds = Math.max(0, Math.floor((now - cached.storedAt) / 1000));
  headers.set("age", String(ageSeconds));
  headers.set("x-switchyard-fallback", "cache");
  const body = NULL_BODY_STATUSES.has(cached.status) ? null : cached.body.slice();
  return new Response(body, { status: cached.status, headers });
}

import assert from "node:assert/strict";
import { cacheKey, DEFAULT_MAX_BYTES, ResponseCache, toResponse } from "./response_cache.ts";
import type { CachedResponse, CacheKeyParts } from "./response_cache.ts";

const encoder = new TextEncoder();
const REQUEST: CacheKeyParts = {
  service: "chat",
  model: "gpt-small",
  body: encoder.encode('{"messages":[{"role":"user","content":"hi"}]}'),
  credential: "sk-alice",
};
const TTL = 60_000;

function okResponse(text: string): Omit<CachedResponse, "storedAt"> {
  return {
    status: 200,
    headers: [["content-type", "application/json"]],
    body: encoder.encode(text),
  };
}

function bodyOfSize(size: number): Omit<CachedResponse, "storedAt"> {
  return { status: 200, headers: [], body: new Uint8Array(size) };
}

Deno.test("the same request finds the response stored for it", () => {
  const cache = new ResponseCache({ maxEntries: 10, ttl: TTL });
  cache.set(cacheKey(REQUEST), okResponse("hello"), 1_000);
  const hit = cache.get(cacheKey({ ...REQUEST, body: REQUEST.body.slice() }), 2_000);
  assert.ok(hit);
  assert.equal(hit.status, 200);
  assert.equal(new TextDecoder().decode(hit.body), "hello");
  assert.equal(hit.storedAt, 1_000);
});

Deno.test("a request with a different body misses", () => {
  const cache = new ResponseCache({ maxEntries: 10, ttl: TTL });
  cache.set(cacheKey(REQUEST), okResponse("hello"), 0);
  const other = { ...REQUEST, body: encoder.encode('{"messages":[]}') };
  assert.equal(cache.get(cacheKey(other), 0), undefined);
});

Deno.test("a request with a different credential misses", () => {
  const cache = new ResponseCache({ maxEntries: 10, ttl: TTL });
  cache.set(cacheKey(REQUEST), okResponse("hello"), 0);
  assert.equal(cache.get(cacheKey({ ...REQUEST, credential: "sk-bob" }), 0), undefined);
  assert.equal(cache.get(cacheKey({ ...REQUEST, credential: undefined }), 0), undefined);
});

Deno.test("an anonymous request and one with an empty credential have different keys", () => {
  assert.notEqual(
    cacheKey({ ...REQUEST, credential: undefined }),
    cacheKey({ ...REQUEST, credential: "" }),
  );
});

Deno.test("a request for a different model or service misses", () => {
  const cache = new ResponseCache({ maxEntries: 10, ttl: TTL });
  cache.set(cacheKey(REQUEST), okResponse("hello"), 0);
  assert.equal(cache.get(cacheKey({ ...REQUEST, model: "gpt-large" }), 0), undefined);
  assert.equal(cache.get(cacheKey({ ...REQUEST, service: "embeddings" }), 0), undefined);
});

Deno.test("the key does not contain the credential and is a hex SHA-256 digest", () => {
  const key = cacheKey(REQUEST);
  assert.match(key, /^[0-9a-f]{64}$/);
  assert.equal(key.includes("sk-alice"), false);
  assert.equal(cacheKey(REQUEST), key, "the same parts always give the same key");
});

Deno.test("moving bytes from one part to the next changes the key", () => {
  const keys = [
    cacheKey({ service: "ab", model: "c", body: new Uint8Array(), credential: undefined }),
    cacheKey({ service: "a", model: "bc", body: new Uint8Array(), credential: undefined }),
    cacheKey({ service: "a", model: "b", body: encoder.encode("c"), credential: undefined }),
    cacheKey({ service: "a", model: "", body: encoder.encode("bc"), credential: undefined }),
    cacheKey({ service: "a", model: "b", body: new Uint8Array(), credential: "c" }),
    cacheKey({ service: "a", model: "", body: encoder.encode("b"), credential: "c" }),
    cacheKey({ service: "", model: "", body: encoder.encode("abc"), credential: undefined }),
    cacheKey({ service: "", model: "", body: new Uint8Array(), credential: "abc" }),
  ];
  assert.equal(new Set(keys).size, keys.length);
});

Deno.test("an entry is a hit until one millisecond before the ttl and a miss at the ttl", () => {
  const cache = new ResponseCache({ maxEntries: 10, ttl: TTL });
  const key = cacheKey(REQUEST);
  cache.set(key, okResponse("hello"), 5_000);
  assert.ok(cache.get(key, 5_000 + TTL - 1));
  assert.equal(cache.get(key, 5_000 + TTL), undefined);
  assert.equal(cache.size, 0, "the expired entry is removed");
  assert.equal(cache.bytes, 0);
});

Deno.test("a hit does not extend the lifetime of an entry", () => {
  const cache = new ResponseCache({ maxEntries: 10, ttl: TTL });
  const key = cacheKey(REQUEST);
  cache.set(key, okResponse("hello"), 0);
  assert.ok(cache.get(key, TTL - 10));
  assert.equal(cache.get(key, TTL), undefined);
});

Deno.test("storing under an existing key replaces the entry and restarts its lifetime", () => {
  const cache = new ResponseCache({ maxEntries: 10, ttl: TTL });
  const key = cacheKey(REQUEST);
  cache.set(key, okResponse("first"), 0);
  cache.set(key, okResponse("second!"), 1_000);
  assert.equal(cache.size, 1);
  assert.equal(cache.bytes, "second!".length);
  const hit = cache.get(key, TTL + 500);
  assert.ok(hit);
  assert.equal(new TextDecoder().decode(hit.body), "second!");
});

Deno.test("the least recently used entry is evicted when there are too many entries", () => {
  const cache = new ResponseCache({ maxEntries: 2, ttl: TTL });
  cache.set("a", okResponse("a"), 0);
  cache.set("b", okResponse("b"), 0);
  assert.ok(cache.get("a", 1), "a is now more recently used than b");
  cache.set("c", okResponse("c"), 2);
  assert.equal(cache.size, 2);
  assert.equal(cache.get("b", 3), undefined);
  assert.ok(cache.get("a", 3));
  assert.ok(cache.get("c", 3));
});

Deno.test("least recently used entries are evicted when the bodies take too many bytes", () => {
  const cache = new ResponseCache({ maxEntries: 100, ttl: TTL, maxBytes: 1_000 });
  cache.set("a", bodyOfSize(250), 0);
  cache.set("b", bodyOfSize(250), 0);
  cache.set("c", bodyOfSize(250), 0);
  cache.set("d", bodyOfSize(250), 0);
  assert.equal(cache.bytes, 1_000);
  assert.ok(cache.get("a", 1));
  cache.set("e", bodyOfSize(100), 2);
  assert.equal(cache.get("b", 3), undefined);
  assert.equal(cache.size, 4);
  assert.equal(cache.bytes, 850);
  for (const key of ["a", "c", "d", "e"]) assert.ok(cache.get(key, 3), key);
});

Deno.test("a body larger than a quarter of the byte limit is not stored", () => {
  const cache = new ResponseCache({ maxEntries: 10, ttl: TTL, maxBytes: 1_000 });
  assert.equal(cache.set("at-limit", bodyOfSize(250), 0), true);
  assert.equal(cache.set("too-large", bodyOfSize(251), 0), false);
  assert.equal(cache.get("too-large", 0), undefined);
  assert.equal(cache.size, 1);
  assert.equal(cache.bytes, 250);
});

Deno.test("a body too large to store still removes the older response under the same key", () => {
  const cache = new ResponseCache({ maxEntries: 10, ttl: TTL, maxBytes: 1_000 });
  cache.set("key", bodyOfSize(10), 0);
  assert.equal(cache.set("key", bodyOfSize(300), 1), false);
  assert.equal(cache.get("key", 2), undefined);
  assert.equal(cache.bytes, 0);
});

Deno.test("the byte limit is 64 MiB when not given", () => {
  const cache = new ResponseCache({ maxEntries: 10, ttl: TTL });
  assert.equal(DEFAULT_MAX_BYTES, 64 * 1024 * 1024);
  assert.equal(cache.set("quarter", bodyOfSize(DEFAULT_MAX_BYTES / 4), 0), true);
  assert.equal(cache.set("over", bodyOfSize(DEFAULT_MAX_BYTES / 4 + 1), 0), false);
});

Deno.test("changing the body passed to set does not change the stored response", () => {
  const cache = new ResponseCache({ maxEntries: 10, ttl: TTL });
  const response = okResponse("hello");
  cache.set("key", response, 0);
  response.body.fill(0);
  assert.equal(new TextDecoder().decode(cache.get("key", 0)?.body), "hello");
});

Deno.test("clear removes every entry", () => {
  const cache = new ResponseCache({ maxEntries: 10, ttl: TTL });
  cache.set("a", okResponse("a"), 0);
  cache.set("b", okResponse("b"), 0);
  cache.clear();
  assert.equal(cache.size, 0);
  assert.equal(cache.bytes, 0);
  assert.equal(cache.get("a", 0), undefined);
});

Deno.test("limits that are not positive are rejected", () => {
  assert.throws(() => new ResponseCache({ maxEntries: 0, ttl: TTL }), RangeError);
  assert.throws(() => new ResponseCache({ maxEntries: 1.5, ttl: TTL }), RangeError);
  assert.throws(() => new ResponseCache({ maxEntries: 1, ttl: 0 }), RangeError);
  assert.throws(() => new ResponseCache({ maxEntries: 1, ttl: TTL, maxBytes: 0 }), RangeError);
  assert.throws(() => new ResponseCache({ maxEntries: 1, ttl: Number.NaN }), RangeError);
});

Deno.test("a rebuilt response has the stored status, headers and body plus age and fallback marker", async () => {
  const cached: CachedResponse = {
    status: 201,
    headers: [
      ["Content-Type", "application/json"],
      ["Content-Length", "999"],
      ["Transfer-Encoding", "chunked"],
      ["Connection", "keep-alive"],
      ["Date", "Wed, 21 Oct 2015 07:28:00 GMT"],
      ["x-request-id", "abc"],
      ["set-cookie", "a=1"],
      ["set-cookie", "b=2"],
    ],
    body: encoder.encode('{"ok":true}'),
    storedAt: 10_000,
  };
  const response = toResponse(cached, 10_000 + 62_900);
  assert.equal(response.status, 201);
  assert.equal(response.headers.get("content-type"), "application/json");
  assert.equal(response.headers.get("x-request-id"), "abc");
  assert.deepEqual(response.headers.getSetCookie(), ["a=1", "b=2"]);
  assert.equal(response.headers.get("age"), "62");
  assert.equal(response.headers.get("x-switchyard-fallback"), "cache");
  for (const name of ["content-length", "transfer-encoding", "connection", "date"]) {
    assert.equal(response.headers.has(name), false, name);
  }
  assert.equal(await response.text(), '{"ok":true}');
});

Deno.test("a rebuilt response replaces stored age and fallback headers", () => {
  const cached: CachedResponse = {
    status: 200,
    headers: [["age", "500"], ["x-switchyard-fallback", "other"]],
    body: new Uint8Array(),
    storedAt: 0,
  };
  const response = toResponse(cached, 999);
  assert.equal(response.headers.get("age"), "0");
  assert.equal(response.headers.get("x-switchyard-fallback"), "cache");
});

Deno.test("a rebuilt response can be read twice from the same cache entry", async () => {
  const cached: CachedResponse = {
    status: 200,
    headers: [],
    body: encoder.encode("again"),
    storedAt: 0,
  };
  assert.equal(await toResponse(cached, 0).text(), "again");
  assert.equal(await toResponse(cached, 0).text(), "again");
});

Deno.test("a rebuilt response with a status that allows no body has none", async () => {
  const cached: CachedResponse = { status: 204, headers: [], body: new Uint8Array(), storedAt: 0 };
  const response = toResponse(cached, 0);
  assert.equal(response.status, 204);
  assert.equal(response.body, null);
  assert.equal(await response.text(), "");
});

/**
 * Client authentication, black-box over HTTP: API keys from the config and from the admin API,
 * per-key models and limits, JWTs (a shared secret and a JWKS), and secrets kept out of logs.
 * @module
 */
import assert from "node:assert/strict";
import { adminCall, type ErrorBody } from "./fixtures/admin.ts";
import { eventually } from "./fixtures/gate.ts";
import { gatewayOverBackend, oneService, startGateway } from "./fixtures/gateway.ts";
import { startFakeBackend } from "./fixtures/fake_backend.ts";
import { postChat } from "./fixtures/requests.ts";
import { base64urlJson, type Signer, signJwt } from "./fixtures/jwt.ts";

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

const encoder = new TextEncoder();

/** Keys the tests configure; long enough that finding one in a log is never a coincidence. */
const KEY_A = "sk-test-alpha-0123456789abcdefghijklmnop";
const KEY_B = "sk-test-bravo-0123456789abcdefghijklmnop";
const ADMIN_KEY = "adm-test-secret-0123456789abcdefghijkl";
const HMAC_SECRET = "jwt-hmac-secret-that-is-long-enough-0123456789";
const ISSUER = "https://issuer.test";
const AUDIENCE = "switchyard";

/** A fixed point in time for tests that control the gateway's clock. */
const NOW = Date.parse("2030-06-01T12:00:00.000Z");

/** The OpenAI error body, with the `type` the gateway fills in. */
interface TypedErrorBody {
  readonly error: {
    readonly message: string;
    readonly type: string;
    readonly code: string;
    readonly param: string | null;
  };
}

interface ChatAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

/** Posts a chat request for `model` with `headers`, and reads the whole answer. */
async function chat(
  url: string,
  headers: Readonly<Record<string, string>> = {},
  model = "gpt-4o",
): Promise<ChatAnswer> {
  const response = await postChat(url, { model }, { headers });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

/** The status of a chat request for `model` with `headers`. */
async function chatStatus(
  url: string,
  headers: Readonly<Record<string, string>> = {},
  model = "gpt-4o",
): Promise<number> {
  return (await chat(url, headers, model)).status;
}

function bearer(key: string): Record<string, string> {
  return { authorization: `Bearer ${key}` };
}

function errorOf(answer: ChatAnswer): TypedErrorBody {
  return JSON.parse(answer.text) as TypedErrorBody;
}

/** Hex SHA-256 of `text`, as a `sha256:` key in the config is written. */
async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", encoder.encode(text));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** Options for {@linkcode authConfig}. */
interface ConfigOptions {
  /** The `auth:` section. */
  readonly auth: Record<string, unknown>;
  /** Extra fields of every instance. */
  readonly instance?: Record<string, unknown>;
}

/** A config (as JSON, which is YAML) with two chat models, `gpt-4o` and `llama-3`, on `url`. */
function authConfig(url: string, options: ConfigOptions): string {
  const instance = (name: string) => ({ name, "base-url": url, ...options.instance });
  return JSON.stringify({
    auth: options.auth,
    model: { services: { chat: { instances: [instance("gpt-4o"), instance("llama-3")] } } },
  });
}

// --- JWTs ------------------------------------------------------------------------------------

async function hs256Signer(secret: string): Promise<Signer> {
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  return (_alg, data) => crypto.subtle.sign("HMAC", key, data);
}

function es256Signer(privateKey: CryptoKey): Signer {
  return (_alg, data) => crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, privateKey, data);
}

/** Claims valid at {@linkcode NOW}, for the configured issuer and audience. */
function claims(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    sub: "alice",
    iss: ISSUER,
    aud: AUDIENCE,
    iat: NOW / 1000 - 60,
    exp: NOW / 1000 + 3600,
    ...extra,
  };
}

/** A JWKS served on 127.0.0.1, counting its fetches. */
interface JwksServer extends AsyncDisposable {
  readonly url: string;
  readonly fetches: number;
}

function serveJwks(keys: readonly Record<string, unknown>[]): JwksServer {
  let fetches = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    if (new URL(request.url).pathname !== "/jwks.json") return new Response(null, { status: 404 });
    fetches++;
    return Response.json({ keys });
  });
  const { port } = server.addr as Deno.NetAddr;
  return {
    url: `http://127.0.0.1:${port}/jwks.json`,
    get fetches() {
      return fetches;
    },
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

async function es256KeyPair(): Promise<CryptoKeyPair> {
  return await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
    "sign",
    "verify",
  ]);
}

// ---------------------------------------------------------------------------------------------
// 1. Off by default
// ---------------------------------------------------------------------------------------------

Deno.test("without an auth section, /v1 needs no key", async () => {
  await using setup = await gatewayOverBackend((url) => oneService("chat", [url]));
  const response = await postChat(setup.gateway.url);
  await response.body?.cancel();
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("www-authenticate"), null);
});

Deno.test("keys written in the config do nothing while auth.enabled is false", async () => {
  await using setup = await gatewayOverBackend((url) =>
    authConfig(url, { auth: { keys: [{ id: "a", key: KEY_A }] } })
  );
  assert.equal(await chatStatus(setup.gateway.url), 200);
  assert.equal(await chatStatus(setup.gateway.url, bearer("not-a-key-at-all")), 200);
});

// ---------------------------------------------------------------------------------------------
// 2. Config keys
// ---------------------------------------------------------------------------------------------

Deno.test("with auth on, a request without a key is refused with 401 and WWW-Authenticate", async () => {
  await using setup = await gatewayOverBackend((url) =>
    authConfig(url, { auth: { enabled: true, keys: [{ id: "a", key: KEY_A }] } })
  );
  const answer = await chat(setup.gateway.url);
  assert.equal(answer.status, 401);
  assert.match(answer.headers.get("www-authenticate") ?? "", /^Bearer\b/);
  assert.match(answer.headers.get("content-type") ?? "", /application\/json/);
  const body = errorOf(answer);
  assert.equal(body.error.code, "invalid_api_key");
  assert.equal(body.error.type, "invalid_request_error");
  assert.equal(typeof body.error.message, "string");
  assert.equal(setup.backend.requests.length, 0, "a refused request never reaches a backend");
});

Deno.test("with auth on, a wrong key gets 401 and the key is not repeated back", async () => {
  await using setup = await gatewayOverBackend((url) =>
    authConfig(url, { auth: { enabled: true, keys: [{ id: "a", key: KEY_A }] } })
  );
  const wrong = "sk-wrong-key-that-nobody-configured-42";
  for (const headers of [bearer(wrong), { "x-api-key": wrong }, bearer(`${KEY_A}x`)]) {
    const answer = await chat(setup.gateway.url, headers);
    assert.equal(answer.status, 401, JSON.stringify(headers));
    assert.equal(errorOf(answer).error.code, "invalid_api_key");
    assert.ok(answer.headers.get("www-authenticate"));
    assert.ok(!answer.text.includes(wrong));
    assert.ok(!answer.text.includes(KEY_A));
  }
  assert.equal(setup.backend.requests.length, 0);
});

Deno.test("with auth on, a configured key works as Bearer and as X-API-Key", async () => {
  await using setup = await gatewayOverBackend((url) =>
    authConfig(url, {
      auth: { enabled: true, keys: [{ id: "a", key: KEY_A }, { id: "b", key: KEY_B }] },
    })
  );
  const url = setup.gateway.url;
  assert.equal(await chatStatus(url, bearer(KEY_A)), 200);
  assert.equal(await chatStatus(url, { authorization: `bearer   ${KEY_B}  ` }), 200);
  assert.equal(await chatStatus(url, { "x-api-key": KEY_A }), 200);
  assert.equal(await chatStatus(url, { "x-api-key": KEY_B }, "llama-3"), 200);
  // An empty Authorization does not hide X-API-Key.
  assert.equal(await chatStatus(url, { authorization: "", "x-api-key": KEY_A }), 200);
  assert.equal(await chatStatus(url, { authorization: "Bearer ", "x-api-key": KEY_A }), 200);
  assert.equal(setup.backend.requests.length, 6);
});

Deno.test("a key written as sha256:<hex digest> accepts the plain key", async () => {
  const digest = await sha256Hex(KEY_A);
  await using setup = await gatewayOverBackend((url) =>
    authConfig(url, { auth: { enabled: true, keys: [{ id: "hashed", key: `sha256:${digest}` }] } })
  );
  const url = setup.gateway.url;
  assert.equal(await chatStatus(url, bearer(KEY_A)), 200);
  assert.equal(await chatStatus(url, { "x-api-key": KEY_A }), 200);
  // The digest is not itself a key.
  assert.equal(await chatStatus(url, bearer(digest)), 401);
  assert.equal(await chatStatus(url, bearer(`sha256:${digest}`)), 401);
});

Deno.test("a key with enabled: false is refused", async () => {
  await using setup = await gatewayOverBackend((url) =>
    authConfig(url, {
      auth: {
        enabled: true,
        keys: [{ id: "off", key: KEY_A, enabled: false }, { id: "on", key: KEY_B }],
      },
    })
  );
  const answer = await chat(setup.gateway.url, bearer(KEY_A));
  assert.equal(answer.status, 401);
  assert.equal(errorOf(answer).error.code, "invalid_api_key");
  assert.ok(answer.headers.get("www-authenticate"));
  assert.ok(!answer.text.includes(KEY_A));
  assert.equal(await chatStatus(setup.gateway.url, bearer(KEY_B)), 200);
});

Deno.test("a key is accepted until its expiry and refused from then on", async () => {
  const expires = "2030-06-01T12:00:00Z";
  let clock = Date.parse(expires) - 1_000;
  await using setup = await gatewayOverBackend(
    (url) =>
      authConfig(url, {
        auth: {
          enabled: true,
          keys: [{ id: "temp", key: KEY_A, expires }, { id: "forever", key: KEY_B }],
        },
      }),
    { gateway: { now: () => clock } },
  );
  const url = setup.gateway.url;
  assert.equal(await chatStatus(url, bearer(KEY_A)), 200);

  clock = Date.parse(expires) + 1_000;
  const answer = await chat(url, bearer(KEY_A));
  assert.equal(answer.status, 401);
  assert.equal(errorOf(answer).error.code, "invalid_api_key");
  assert.match(errorOf(answer).error.message, /expired/);
  assert.ok(!answer.text.includes(KEY_A));
  assert.equal(await chatStatus(url, bearer(KEY_B)), 200);
});

Deno.test("an expiry with a time-zone offset is honoured", async () => {
  // 14:00+02:00 is 12:00Z.
  let clock = Date.parse("2030-06-01T11:59:00Z");
  await using setup = await gatewayOverBackend(
    (url) =>
      authConfig(url, {
        auth: {
          enabled: true,
          keys: [{ id: "temp", key: KEY_A, expires: "2030-06-01T14:00:00+02:00" }],
        },
      }),
    { gateway: { now: () => clock } },
  );
  assert.equal(await chatStatus(setup.gateway.url, bearer(KEY_A)), 200);
  clock = Date.parse("2030-06-01T12:01:00Z");
  assert.equal(await chatStatus(setup.gateway.url, bearer(KEY_A)), 401);
});

// ---------------------------------------------------------------------------------------------
// 3. Per-key models
// ---------------------------------------------------------------------------------------------

/** Two keys: `gpt-only` (KEY_A) may use `gpt-*` models, `all` (KEY_B) any model. */
const GPT_ONLY_AND_ALL = {
  enabled: true,
  keys: [{ id: "gpt-only", key: KEY_A, models: ["gpt-*"] }, { id: "all", key: KEY_B }],
};

Deno.test("a key limited to models may use those and gets 403 for the others", async () => {
  await using setup = await gatewayOverBackend((url) =>
    authConfig(url, { auth: GPT_ONLY_AND_ALL })
  );
  const url = setup.gateway.url;
  assert.equal(await chatStatus(url, bearer(KEY_A), "gpt-4o"), 200);

  const refused = await chat(url, bearer(KEY_A), "llama-3");
  assert.equal(refused.status, 403);
  const body = errorOf(refused);
  assert.equal(body.error.code, "permission_denied");
  assert.equal(body.error.param, "model");
  assert.match(body.error.message, /gpt-only/);
  assert.ok(!refused.text.includes(KEY_A));
  assert.equal(setup.backend.requests.length, 1, "the refused request never reached a backend");

  assert.equal(await chatStatus(url, bearer(KEY_B), "llama-3"), 200);
});

Deno.test("a key limited to exact model names matches them exactly", async () => {
  await using setup = await gatewayOverBackend((url) =>
    authConfig(url, {
      auth: { enabled: true, keys: [{ id: "llama", key: KEY_A, models: ["llama-3"] }] },
    })
  );
  const url = setup.gateway.url;
  assert.equal(await chatStatus(url, bearer(KEY_A), "llama-3"), 200);
  assert.equal(await chatStatus(url, bearer(KEY_A), "gpt-4o"), 403);
  // An unknown model is refused for the key before it is looked up.
  assert.equal(await chatStatus(url, bearer(KEY_A), "llama-30"), 403);
});

Deno.test("GET /v1/models/{id} answers 404 for a model the key may not use", async () => {
  await using setup = await gatewayOverBackend((url) =>
    authConfig(url, { auth: GPT_ONLY_AND_ALL })
  );
  const url = setup.gateway.url;
  const retrieve = async (key: string, model: string) => {
    const response = await fetch(`${url}/v1/models/${model}`, { headers: bearer(key) });
    return { status: response.status, body: await response.json() };
  };
  const allowed = await retrieve(KEY_A, "gpt-4o");
  assert.equal(allowed.status, 200);
  assert.equal(allowed.body.id, "gpt-4o");
  const hidden = await retrieve(KEY_A, "llama-3");
  assert.equal(hidden.status, 404);
  assert.equal(hidden.body.error.code, "model_not_found");
  assert.equal((await retrieve(KEY_B, "llama-3")).status, 200);
  const anonymous = await fetch(`${url}/v1/models/gpt-4o`);
  await anonymous.body?.cancel();
  assert.equal(anonymous.status, 401);
});

Deno.test("GET /v1/models lists only the models a key may use", async () => {
  await using setup = await gatewayOverBackend((url) =>
    authConfig(url, { auth: GPT_ONLY_AND_ALL })
  );
  const url = setup.gateway.url;
  const list = async (headers: Record<string, string>) => {
    const response = await fetch(`${url}/v1/models`, { headers });
    const body = await response.json() as { data?: { id: string }[] };
    return { status: response.status, ids: (body.data ?? []).map((model) => model.id).sort() };
  };
  assert.deepEqual(await list(bearer(KEY_A)), { status: 200, ids: ["gpt-4o"] });
  assert.deepEqual(await list({ "x-api-key": KEY_B }), {
    status: 200,
    ids: ["gpt-4o", "llama-3"],
  });
  const anonymous = await fetch(`${url}/v1/models`);
  await anonymous.body?.cancel();
  assert.equal(anonymous.status, 401);
  assert.ok(anonymous.headers.get("www-authenticate"));
});

// ---------------------------------------------------------------------------------------------
// 4. Per-key rate limit
// ---------------------------------------------------------------------------------------------

Deno.test("a key's own rate limit refuses it with 429 and leaves other keys alone", async () => {
  await using setup = await gatewayOverBackend((url) =>
    authConfig(url, {
      auth: {
        enabled: true,
        keys: [
          { id: "limited", key: KEY_A, "rate-limit": { capacity: 1, rate: 0.0001 } },
          { id: "free", key: KEY_B },
        ],
      },
    })
  );
  const url = setup.gateway.url;
  assert.equal(await chatStatus(url, bearer(KEY_A)), 200);

  const refused = await chat(url, bearer(KEY_A));
  assert.equal(refused.status, 429);
  assert.equal(errorOf(refused).error.code, "rate_limit_exceeded");
  assert.match(errorOf(refused).error.message, /API key/);
  assert.ok(refused.headers.get("retry-after"));
  assert.ok(!refused.text.includes(KEY_A));
  // The same key by the other header is the same client.
  assert.equal(await chatStatus(url, { "x-api-key": KEY_A }), 429);

  for (let i = 0; i < 5; i++) assert.equal(await chatStatus(url, bearer(KEY_B)), 200);
  assert.equal(setup.backend.requests.length, 6);
});

Deno.test("two keys with the same limit settings each get their own budget", async () => {
  const limit = { capacity: 1, rate: 0.0001 };
  await using setup = await gatewayOverBackend((url) =>
    authConfig(url, {
      auth: {
        enabled: true,
        keys: [
          { id: "one", key: KEY_A, "rate-limit": limit },
          { id: "two", key: KEY_B, "rate-limit": limit },
        ],
      },
    })
  );
  const url = setup.gateway.url;
  assert.equal(await chatStatus(url, bearer(KEY_A)), 200);
  assert.equal(await chatStatus(url, bearer(KEY_B)), 200);
  assert.equal(await chatStatus(url, bearer(KEY_A)), 429);
  assert.equal(await chatStatus(url, bearer(KEY_B)), 429);
});

// ---------------------------------------------------------------------------------------------
// 5. The gateway key stays at the gateway
// ---------------------------------------------------------------------------------------------

Deno.test("forward-authorization forwards the client's Authorization while auth is off", async () => {
  // The control for the test below: the recorded headers do show a forwarded credential.
  await using setup = await gatewayOverBackend((url) =>
    authConfig(url, { auth: {}, instance: { "forward-authorization": true } })
  );
  assert.equal(await chatStatus(setup.gateway.url, bearer("upstream-token-123")), 200);
  const recorded = setup.backend.requests[0]!;
  assert.equal(recorded.headers.get("authorization"), "Bearer upstream-token-123");
});

Deno.test("the client's gateway key is never forwarded upstream, even with forward-authorization", async () => {
  const jwtSigner = await hs256Signer(HMAC_SECRET);
  const token = await signJwt(jwtSigner, "HS256", claims());
  await using setup = await gatewayOverBackend(
    (url) =>
      authConfig(url, {
        auth: {
          enabled: true,
          keys: [{ id: "a", key: KEY_A }],
          jwt: { key: HMAC_SECRET, algorithms: ["HS256"], issuer: ISSUER, audience: AUDIENCE },
        },
        instance: { "forward-authorization": true },
      }),
    { gateway: { now: () => NOW } },
  );
  const url = setup.gateway.url;
  assert.equal(await chatStatus(url, bearer(KEY_A)), 200);
  assert.equal(await chatStatus(url, { "x-api-key": KEY_A }), 200);
  assert.equal(await chatStatus(url, bearer(token)), 200);
  assert.equal(setup.backend.requests.length, 3);
  for (const [index, recorded] of setup.backend.requests.entries()) {
    for (const name of ["authorization", "x-api-key"]) {
      const value = recorded.headers.get(name) ?? "";
      assert.ok(!value.includes(KEY_A), `request ${index + 1} forwarded the key in ${name}`);
      assert.ok(!value.includes(token), `request ${index + 1} forwarded the JWT in ${name}`);
    }
    for (const [name, value] of recorded.headers) {
      assert.ok(!value.includes(KEY_A), `request ${index + 1} carries the key in ${name}`);
    }
  }
});

Deno.test("an instance's own headers still reach the backend when auth is on", async () => {
  await using setup = await gatewayOverBackend((url) =>
    authConfig(url, {
      auth: { enabled: true, keys: [{ id: "a", key: KEY_A }] },
      instance: { "forward-authorization": true, headers: { authorization: "Bearer upstream" } },
    })
  );
  assert.equal(await chatStatus(setup.gateway.url, bearer(KEY_A)), 200);
  assert.equal(setup.backend.requests[0]!.headers.get("authorization"), "Bearer upstream");
});

// ---------------------------------------------------------------------------------------------
// 6. Keys created through the admin API
// ---------------------------------------------------------------------------------------------

interface KeyInfo {
  readonly id: string;
  readonly source: "config" | "admin";
  readonly models?: readonly string[];
  readonly enabled: boolean;
  readonly created?: string;
  readonly by?: string;
}
interface CreatedKey extends KeyInfo {
  readonly key: string;
}
interface KeyList {
  readonly keys: readonly KeyInfo[];
}
interface AuditList {
  readonly entries: readonly {
    readonly by: string;
    readonly action: string;
    readonly target: string;
  }[];
}

function adminAuthConfig(url: string): string {
  return authConfig(url, { auth: { enabled: true, keys: [{ id: "cfg", key: KEY_A }] } });
}

Deno.test("a key created through the admin API is shown once and works at once", async () => {
  await using setup = await gatewayOverBackend(adminAuthConfig, {
    gateway: { adminKey: ADMIN_KEY },
  });
  const url = setup.gateway.url;

  const unauthorized = await adminCall(url, "POST", "/admin/keys", { body: { id: "team" } });
  assert.equal(unauthorized.status, 401);
  const clientKeyAsAdmin = await adminCall(url, "POST", "/admin/keys", {
    key: KEY_A,
    body: { id: "team" },
  });
  assert.equal(clientKeyAsAdmin.status, 401, "a client key is no admin key");

  const created = await adminCall<CreatedKey>(url, "POST", "/admin/keys", {
    key: ADMIN_KEY,
    body: { id: "team", models: ["gpt-*"] },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal(created.body.id, "team");
  assert.equal(created.body.source, "admin");
  assert.deepEqual(created.body.models, ["gpt-*"]);
  assert.equal(created.body.enabled, true);
  assert.equal(typeof created.body.key, "string");
  assert.ok(created.body.key.length >= 32, "a generated key is long");
  assert.ok(!("digest" in created.body));
  const key = created.body.key;
  const digest = await sha256Hex(key);

  // It works at once, within its models.
  assert.equal(await chatStatus(url, bearer(key), "gpt-4o"), 200);
  assert.equal(await chatStatus(url, { "x-api-key": key }, "gpt-4o"), 200);
  assert.equal(await chatStatus(url, bearer(key), "llama-3"), 403);
  // The configured key still works.
  assert.equal(await chatStatus(url, bearer(KEY_A), "llama-3"), 200);

  // The list names both keys and shows neither key nor digest.
  const listed = await fetch(`${url}/admin/keys`, { headers: bearer(ADMIN_KEY) });
  assert.equal(listed.status, 200);
  const text = await listed.text();
  const list = JSON.parse(text) as KeyList;
  assert.deepEqual(
    list.keys.map(({ id, source }) => [id, source]).sort(),
    [["cfg", "config"], ["team", "admin"]],
  );
  for (const secret of [key, digest, KEY_A, await sha256Hex(KEY_A)]) {
    assert.ok(!text.includes(secret), "GET /admin/keys shows a key or digest");
  }
  for (const entry of list.keys) {
    assert.ok(!("key" in entry) && !("digest" in entry), JSON.stringify(entry));
  }
});

Deno.test("a created key can be disabled, enabled again and revoked", async () => {
  await using setup = await gatewayOverBackend(adminAuthConfig, {
    gateway: { adminKey: ADMIN_KEY },
  });
  const url = setup.gateway.url;
  const created = await adminCall<CreatedKey>(url, "POST", "/admin/keys", {
    key: ADMIN_KEY,
    body: { id: "team" },
  });
  assert.equal(created.status, 201);
  const key = created.body.key;
  assert.equal(await chatStatus(url, bearer(key)), 200);

  const disabled = await adminCall<KeyInfo>(url, "PATCH", "/admin/keys/team", {
    key: ADMIN_KEY,
    body: { enabled: false },
  });
  assert.equal(disabled.status, 200, JSON.stringify(disabled.body));
  assert.equal(disabled.body.enabled, false);
  const refused = await chat(url, bearer(key));
  assert.equal(refused.status, 401);
  assert.equal(errorOf(refused).error.code, "invalid_api_key");

  const enabled = await adminCall<KeyInfo>(url, "PATCH", "/admin/keys/team", {
    key: ADMIN_KEY,
    body: { enabled: true, models: ["llama-3"] },
  });
  assert.equal(enabled.status, 200, JSON.stringify(enabled.body));
  assert.equal(await chatStatus(url, bearer(key), "llama-3"), 200);
  assert.equal(await chatStatus(url, bearer(key), "gpt-4o"), 403);

  const cannotChangeKey = await adminCall(url, "PATCH", "/admin/keys/team", {
    key: ADMIN_KEY,
    body: { key: "my-own-key-value-123456" },
  });
  assert.equal(cannotChangeKey.status, 400);

  const deleted = await adminCall<null>(url, "DELETE", "/admin/keys/team", { key: ADMIN_KEY });
  assert.equal(deleted.status, 204);
  assert.equal(await chatStatus(url, bearer(key), "llama-3"), 401);
  const again = await adminCall(url, "DELETE", "/admin/keys/team", { key: ADMIN_KEY });
  assert.equal(again.status, 404);
  const missing = await adminCall(url, "PATCH", "/admin/keys/team", {
    key: ADMIN_KEY,
    body: { enabled: true },
  });
  assert.equal(missing.status, 404);
});

Deno.test("ids are unique: a config key's id or a created one cannot be created again", async () => {
  await using setup = await gatewayOverBackend(adminAuthConfig, {
    gateway: { adminKey: ADMIN_KEY },
  });
  const url = setup.gateway.url;
  const taken = await adminCall(url, "POST", "/admin/keys", {
    key: ADMIN_KEY,
    body: { id: "cfg" },
  });
  assert.equal(taken.status, 409, JSON.stringify(taken.body));
  assert.equal(await chatStatus(url, bearer(KEY_A)), 200, "the config key is unchanged");

  const first = await adminCall<CreatedKey>(url, "POST", "/admin/keys", {
    key: ADMIN_KEY,
    body: { id: "team" },
  });
  assert.equal(first.status, 201);
  const second = await adminCall<ErrorBody>(url, "POST", "/admin/keys", {
    key: ADMIN_KEY,
    body: { id: "team" },
  });
  assert.equal(second.status, 409);
  assert.equal(second.body.error.code, "key_exists");
  assert.equal(await chatStatus(url, bearer(first.body.key)), 200, "the first key still works");

  // Keys of the config are changed in the config.
  const patchConfigKey = await adminCall<ErrorBody>(url, "PATCH", "/admin/keys/cfg", {
    key: ADMIN_KEY,
    body: { enabled: false },
  });
  assert.equal(patchConfigKey.status, 409);
  const deleteConfigKey = await adminCall(url, "DELETE", "/admin/keys/cfg", { key: ADMIN_KEY });
  assert.equal(deleteConfigKey.status, 409);
  assert.equal(await chatStatus(url, bearer(KEY_A)), 200);

  const invalid = await adminCall(url, "POST", "/admin/keys", {
    key: ADMIN_KEY,
    body: { id: "bad id with spaces" },
  });
  assert.equal(invalid.status, 400);
  const withKey = await adminCall(url, "POST", "/admin/keys", {
    key: ADMIN_KEY,
    body: { id: "chosen", key: "my-own-key-value-123456" },
  });
  assert.equal(withKey.status, 400, "a client cannot choose the key");
});

Deno.test("a created key with a rate limit is limited on its own", async () => {
  await using setup = await gatewayOverBackend(adminAuthConfig, {
    gateway: { adminKey: ADMIN_KEY },
  });
  const url = setup.gateway.url;
  const created = await adminCall<CreatedKey>(url, "POST", "/admin/keys", {
    key: ADMIN_KEY,
    body: { id: "team", "rate-limit": { capacity: 1, rate: 0.0001 } },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal(await chatStatus(url, bearer(created.body.key)), 200);
  assert.equal(await chatStatus(url, bearer(created.body.key)), 429);
  assert.equal(await chatStatus(url, bearer(KEY_A)), 200);
  assert.equal(await chatStatus(url, bearer(KEY_A)), 200);
});

Deno.test("creating or revoking a key does not hand a limited key a fresh budget", async () => {
  await using setup = await gatewayOverBackend(
    (url) =>
      authConfig(url, {
        auth: {
          enabled: true,
          keys: [{ id: "limited", key: KEY_A, "rate-limit": { capacity: 1, rate: 0.0001 } }],
        },
      }),
    { gateway: { adminKey: ADMIN_KEY } },
  );
  const url = setup.gateway.url;
  assert.equal(await chatStatus(url, bearer(KEY_A)), 200);
  assert.equal(await chatStatus(url, bearer(KEY_A)), 429);
  const created = await adminCall<CreatedKey>(url, "POST", "/admin/keys", {
    key: ADMIN_KEY,
    body: { id: "other" },
  });
  assert.equal(created.status, 201);
  assert.equal(await chatStatus(url, bearer(KEY_A)), 429);
  const deleted = await adminCall<null>(url, "DELETE", "/admin/keys/other", { key: ADMIN_KEY });
  assert.equal(deleted.status, 204);
  assert.equal(await chatStatus(url, bearer(KEY_A)), 429);
});

Deno.test("a key created on one gateway works on another sharing the KV store", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    await using backend = await startFakeBackend();
    await using first = await startGateway(adminAuthConfig(backend.url), {
      kv,
      adminKey: ADMIN_KEY,
    });
    await using second = await startGateway(adminAuthConfig(backend.url), {
      kv,
      adminKey: ADMIN_KEY,
    });

    const created = await adminCall<CreatedKey>(first.url, "POST", "/admin/keys", {
      key: ADMIN_KEY,
      body: { id: "shared", models: ["gpt-*"] },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const key = created.body.key;
    assert.equal(await chatStatus(first.url, bearer(key)), 200);

    await eventually(
      async () => assert.equal(await chatStatus(second.url, bearer(key)), 200),
      5_000,
    );
    assert.equal(await chatStatus(second.url, bearer(key), "llama-3"), 403);

    const listed = await adminCall<KeyList>(second.url, "GET", "/admin/keys", { key: ADMIN_KEY });
    assert.ok(listed.body.keys.some((entry) => entry.id === "shared"));

    // Revoking on the second reaches the first.
    const deleted = await adminCall<null>(second.url, "DELETE", "/admin/keys/shared", {
      key: ADMIN_KEY,
    });
    assert.equal(deleted.status, 204);
    assert.equal(await chatStatus(second.url, bearer(key)), 401);
    await eventually(
      async () => assert.equal(await chatStatus(first.url, bearer(key)), 401),
      5_000,
    );
  } finally {
    kv.close();
  }
});

// ---------------------------------------------------------------------------------------------
// 7. JWTs
// ---------------------------------------------------------------------------------------------

function hs256Config(url: string, extra: Record<string, unknown> = {}): string {
  return authConfig(url, {
    auth: {
      enabled: true,
      keys: [{ id: "a", key: KEY_A }],
      jwt: {
        key: HMAC_SECRET,
        algorithms: ["HS256"],
        issuer: ISSUER,
        audience: AUDIENCE,
        ...extra,
      },
    },
  });
}

Deno.test("an HS256 JWT with the right issuer and audience is accepted", async () => {
  const signer = await hs256Signer(HMAC_SECRET);
  await using setup = await gatewayOverBackend(hs256Config, { gateway: { now: () => NOW } });
  const url = setup.gateway.url;
  const token = await signJwt(signer, "HS256", claims());
  assert.equal(await chatStatus(url, bearer(token)), 200);
  assert.equal(await chatStatus(url, { "x-api-key": token }, "llama-3"), 200);
  // API keys keep working next to JWTs.
  assert.equal(await chatStatus(url, bearer(KEY_A)), 200);
  // An audience list containing ours is accepted too.
  const listed = await signJwt(signer, "HS256", claims({ aud: ["other", AUDIENCE] }));
  assert.equal(await chatStatus(url, bearer(listed)), 200);
});

Deno.test("refused JWTs get 401 and the message never contains the token", async () => {
  const signer = await hs256Signer(HMAC_SECRET);
  const otherSigner = await hs256Signer(`${HMAC_SECRET}-not`);
  await using setup = await gatewayOverBackend(hs256Config, { gateway: { now: () => NOW } });
  const url = setup.gateway.url;
  const cases: [string, string, RegExp][] = [
    [
      "expired",
      await signJwt(signer, "HS256", claims({ exp: NOW / 1000 - 3600, iat: NOW / 1000 - 7200 })),
      /expired/,
    ],
    [
      "wrong issuer",
      await signJwt(signer, "HS256", claims({ iss: "https://evil.test" })),
      /issuer/,
    ],
    ["no issuer", await signJwt(signer, "HS256", claims({ iss: undefined })), /issuer/],
    ["wrong audience", await signJwt(signer, "HS256", claims({ aud: "someone-else" })), /audience/],
    ["no expiry", await signJwt(signer, "HS256", claims({ exp: undefined })), /expiry/],
    ["not yet valid", await signJwt(signer, "HS256", claims({ nbf: NOW / 1000 + 600 })), /before/],
    ["wrong secret", await signJwt(otherSigner, "HS256", claims()), /signature/],
    ["algorithm not accepted", await signJwt(signer, "HS384", claims()), /algorithm/],
  ];
  const unsigned = `${base64urlJson({ alg: "none", typ: "JWT" })}.${base64urlJson(claims())}.`;
  cases.push(["alg none", unsigned, /none|algorithm|signature|token/]);

  for (const [name, token, reason] of cases) {
    const answer = await chat(url, bearer(token));
    assert.equal(answer.status, 401, name);
    const body = errorOf(answer);
    assert.equal(body.error.code, "invalid_api_key", name);
    assert.match(body.error.message, reason, `${name}: ${body.error.message}`);
    assert.ok(answer.headers.get("www-authenticate"), name);
    assert.ok(!answer.text.includes(token), `${name}: the answer repeats the token`);
    const [, , signature] = token.split(".");
    if (signature) assert.ok(!answer.text.includes(signature), `${name}: repeats the signature`);
  }
  assert.equal(setup.backend.requests.length, 0);
});

Deno.test("a JWT's expiry follows the gateway clock, with the configured clock skew", async () => {
  const signer = await hs256Signer(HMAC_SECRET);
  let clock = NOW;
  await using setup = await gatewayOverBackend(
    (url) => hs256Config(url, { "clock-skew": 0 }),
    { gateway: { now: () => clock } },
  );
  const token = await signJwt(signer, "HS256", claims({ exp: NOW / 1000 + 60 }));
  assert.equal(await chatStatus(setup.gateway.url, bearer(token)), 200);
  clock = NOW + 61_000;
  assert.equal(await chatStatus(setup.gateway.url, bearer(token)), 401);
});

Deno.test("models-claim restricts a JWT to the models it lists", async () => {
  const signer = await hs256Signer(HMAC_SECRET);
  await using setup = await gatewayOverBackend(
    (url) => hs256Config(url, { "models-claim": "models" }),
    { gateway: { now: () => NOW } },
  );
  const url = setup.gateway.url;
  const token = await signJwt(signer, "HS256", claims({ models: ["gpt-*"] }));
  assert.equal(await chatStatus(url, bearer(token), "gpt-4o"), 200);
  const refused = await chat(url, bearer(token), "llama-3");
  assert.equal(refused.status, 403);
  assert.equal(errorOf(refused).error.code, "permission_denied");
  assert.equal(errorOf(refused).error.param, "model");
  assert.match(errorOf(refused).error.message, /jwt:alice/);
  assert.ok(!refused.text.includes(token));

  // A space-separated string works like a list.
  const spaced = await signJwt(signer, "HS256", claims({ models: "llama-3 other" }));
  assert.equal(await chatStatus(url, bearer(spaced), "llama-3"), 200);
  assert.equal(await chatStatus(url, bearer(spaced), "gpt-4o"), 403);

  // Without the claim, a token may use no model.
  const none = await signJwt(signer, "HS256", claims());
  assert.equal(await chatStatus(url, bearer(none), "gpt-4o"), 403);

  const response = await fetch(`${url}/v1/models`, { headers: bearer(token) });
  const body = await response.json() as { data: { id: string }[] };
  assert.deepEqual(body.data.map((model) => model.id), ["gpt-4o"]);
});

Deno.test("team-claim puts a JWT in its team: the team's models and shared limit", async () => {
  const signer = await hs256Signer(HMAC_SECRET);
  await using setup = await gatewayOverBackend(
    (url) =>
      authConfig(url, {
        auth: {
          enabled: true,
          teams: [
            { id: "research", models: ["llama-*"], "rate-limit": { capacity: 3, rate: 0.001 } },
            { id: "frozen", enabled: false },
          ],
          jwt: {
            key: HMAC_SECRET,
            algorithms: ["HS256"],
            issuer: ISSUER,
            audience: AUDIENCE,
            "team-claim": "team",
          },
        },
      }),
    { gateway: { now: () => NOW } },
  );
  const url = setup.gateway.url;
  const alice = await signJwt(signer, "HS256", claims({ team: "research" }));
  const bob = await signJwt(signer, "HS256", claims({ sub: "bob", team: "research" }));

  const refused = await chat(url, bearer(alice), "gpt-4o");
  assert.equal(refused.status, 403);
  assert.match(errorOf(refused).error.message, /jwt:alice.*gpt-4o/);
  // The team's limit of three (the refused request was one) is shared by its tokens.
  assert.equal(await chatStatus(url, bearer(alice), "llama-3"), 200);
  assert.equal(await chatStatus(url, bearer(bob), "llama-3"), 200);
  const limited = await chat(url, bearer(bob), "llama-3");
  assert.equal(limited.status, 429);
  assert.equal(errorOf(limited).error.code, "rate_limit_exceeded");

  // A token without the claim is in no team: every model, no team limit.
  const loner = await signJwt(signer, "HS256", claims({ sub: "carol" }));
  assert.equal(await chatStatus(url, bearer(loner), "gpt-4o"), 200);

  for (
    const [team, reason] of [
      ["frozen", /team "frozen" of the token is disabled/],
      ["nobody", /team "nobody" of the token does not exist/],
      [["research"], /"team" claim must name a team/],
    ] as const
  ) {
    const token = await signJwt(signer, "HS256", claims({ team }));
    const answer = await chat(url, bearer(token), "llama-3");
    assert.equal(answer.status, 401, String(team));
    assert.match(errorOf(answer).error.message, reason);
  }
});

Deno.test("an ES256 JWT is verified against a JWKS fetched from jwks-url", async () => {
  const pair = await es256KeyPair();
  const stranger = await es256KeyPair();
  const publicJwk = await crypto.subtle.exportKey("jwk", pair.publicKey);
  const { kty, crv, x, y } = publicJwk;
  await using jwks = serveJwks([{ kty, crv, x, y, kid: "k1", alg: "ES256", use: "sig" }]);
  await using setup = await gatewayOverBackend(
    (url) =>
      authConfig(url, {
        auth: {
          enabled: true,
          jwt: {
            "jwks-url": jwks.url,
            algorithms: ["ES256"],
            issuer: ISSUER,
            audience: AUDIENCE,
            "models-claim": "models",
          },
        },
      }),
    { gateway: { now: () => NOW } },
  );
  const url = setup.gateway.url;
  const signer = es256Signer(pair.privateKey);

  const token = await signJwt(signer, "ES256", claims({ models: ["gpt-*"] }), { kid: "k1" });
  assert.equal(await chatStatus(url, bearer(token), "gpt-4o"), 200);
  assert.equal(await chatStatus(url, bearer(token), "llama-3"), 403);
  assert.equal(jwks.fetches, 1);

  // Kept: a second token needs no second fetch.
  const again = await signJwt(signer, "ES256", claims({ sub: "bob", models: ["*"] }), {
    kid: "k1",
  });
  assert.equal(await chatStatus(url, bearer(again), "llama-3"), 200);
  assert.equal(jwks.fetches, 1);

  // A token without kid is tried against the keys that fit its algorithm.
  const noKid = await signJwt(signer, "ES256", claims({ models: ["*"] }));
  assert.equal(await chatStatus(url, bearer(noKid)), 200);

  const refusals: [string, string][] = [
    [
      "another key under the same kid",
      await signJwt(es256Signer(stranger.privateKey), "ES256", claims({ models: ["*"] }), {
        kid: "k1",
      }),
    ],
    [
      "an unknown kid",
      await signJwt(es256Signer(stranger.privateKey), "ES256", claims({ models: ["*"] }), {
        kid: "k2",
      }),
    ],
    [
      "expired",
      await signJwt(signer, "ES256", claims({ models: ["*"], exp: NOW / 1000 - 600 }), {
        kid: "k1",
      }),
    ],
    [
      "HS256 signed with the public key's x as secret",
      await signJwt(await hs256Signer(x ?? ""), "HS256", claims({ models: ["*"] }), {
        kid: "k1",
      }),
    ],
  ];
  for (const [name, refused] of refusals) {
    const answer = await chat(url, bearer(refused));
    assert.equal(answer.status, 401, name);
    assert.equal(errorOf(answer).error.code, "invalid_api_key", name);
    assert.ok(!answer.text.includes(refused), name);
  }
});

// ---------------------------------------------------------------------------------------------
// 8. Secrets stay out of logs, status and the audit trail
// ---------------------------------------------------------------------------------------------

Deno.test("no key, digest or token appears in logs, /v1/chat/status or /admin/audit", async () => {
  const lines: string[] = [];
  const signer = await hs256Signer(HMAC_SECRET);
  const token = await signJwt(signer, "HS256", claims({ models: ["*"] }));
  const expired = await signJwt(signer, "HS256", claims({ exp: NOW / 1000 - 3600 }));
  const forged = await signJwt(
    await hs256Signer("some-other-secret-0123456789"),
    "HS256",
    claims(),
  );
  const wrongKey = "sk-test-wrong-0123456789abcdefghijklmnop";
  const wrongAdmin = "adm-test-wrong-0123456789abcdefghijklm";
  await using setup = await gatewayOverBackend(
    (url) =>
      authConfig(url, {
        auth: {
          enabled: true,
          keys: [
            { id: "a", key: KEY_A, models: ["gpt-*"] },
            { id: "b", key: KEY_B, "rate-limit": { capacity: 1, rate: 0.0001 } },
          ],
          jwt: {
            key: HMAC_SECRET,
            algorithms: ["HS256"],
            issuer: ISSUER,
            audience: AUDIENCE,
            "models-claim": "models",
          },
        },
        instance: { "forward-authorization": true },
      }),
    {
      gateway: {
        adminKey: ADMIN_KEY,
        now: () => NOW,
        log: (message) => lines.push(message),
        logError: (message, error) => lines.push(`${message} ${Deno.inspect(error)}`),
      },
    },
  );
  const url = setup.gateway.url;

  // Accepted and refused client requests.
  assert.equal(await chatStatus(url, bearer(KEY_A)), 200);
  assert.equal(await chatStatus(url, bearer(KEY_A), "llama-3"), 403);
  assert.equal(await chatStatus(url, { "x-api-key": KEY_B }), 200);
  assert.equal(await chatStatus(url, { "x-api-key": KEY_B }), 429);
  assert.equal(await chatStatus(url, bearer(wrongKey)), 401);
  assert.equal(await chatStatus(url, bearer(token)), 200);
  assert.equal(await chatStatus(url, bearer(expired)), 401);
  assert.equal(await chatStatus(url, bearer(forged)), 401);
  assert.equal(await chatStatus(url, {}), 401);

  // Admin calls, accepted and refused, creating, changing and revoking a key.
  assert.equal((await adminCall(url, "GET", "/admin/keys", { key: wrongAdmin })).status, 401);
  assert.equal((await adminCall(url, "GET", "/admin/keys", { key: KEY_A })).status, 401);
  const created = await adminCall<CreatedKey>(url, "POST", "/admin/keys", {
    key: ADMIN_KEY,
    body: { id: "made", models: ["gpt-*"] },
  });
  assert.equal(created.status, 201);
  const madeKey = created.body.key;
  assert.equal(await chatStatus(url, bearer(madeKey)), 200);
  const patched = await adminCall(url, "PATCH", "/admin/keys/made", {
    key: ADMIN_KEY,
    body: { enabled: false },
  });
  assert.equal(patched.status, 200);
  assert.equal(await chatStatus(url, bearer(madeKey)), 401);
  const deleted = await adminCall<null>(url, "DELETE", "/admin/keys/made", { key: ADMIN_KEY });
  assert.equal(deleted.status, 204);

  // Status and audit, read with valid credentials.
  const status = await fetch(`${url}/v1/chat/status`, { headers: bearer(KEY_A) });
  assert.equal(status.status, 200);
  const statusText = await status.text();
  const audit = await fetch(`${url}/admin/audit`, { headers: bearer(ADMIN_KEY) });
  assert.equal(audit.status, 200);
  const auditText = await audit.text();
  const auditBody = JSON.parse(auditText) as AuditList;
  const keyEntries = auditBody.entries.filter((entry) => entry.target === "made");
  // Newest first, even within one millisecond (the clock here is fixed).
  assert.deepEqual(keyEntries.map((entry) => entry.action), [
    "revoke key",
    "update key",
    "create key",
  ]);
  assert.ok(keyEntries.every((entry) => entry.by === "env"), "the admin is named by its id");
  const keysText = await (await fetch(`${url}/admin/keys`, { headers: bearer(ADMIN_KEY) })).text();

  const secrets: Record<string, string> = {
    "key a": KEY_A,
    "key b": KEY_B,
    "created key": madeKey,
    "admin key": ADMIN_KEY,
    "wrong key": wrongKey,
    "wrong admin key": wrongAdmin,
    "HMAC secret": HMAC_SECRET,
    "JWT": token,
    "expired JWT": expired,
    "forged JWT": forged,
    "JWT signature": token.split(".")[2]!,
  };
  for (const [name, secret] of Object.entries({ ...secrets })) {
    secrets[`digest of ${name}`] = await sha256Hex(secret);
  }
  assert.ok(lines.length > 0, "the gateway logged something");
  for (const [name, secret] of Object.entries(secrets)) {
    for (const line of lines) {
      assert.ok(!line.includes(secret), `the log shows the ${name}: ${line}`);
    }
    assert.ok(!statusText.includes(secret), `/v1/chat/status shows the ${name}`);
    assert.ok(!auditText.includes(secret), `/admin/audit shows the ${name}`);
    assert.ok(!keysText.includes(secret), `/admin/keys shows the ${name}`);
  }
});

// ---------------------------------------------------------------------------------------------
// Status and metrics, and the start log
// ---------------------------------------------------------------------------------------------

Deno.test("with auth on, /status.json and /metrics need a key unless auth.public-status", async () => {
  for (const publicStatus of [false, true]) {
    await using setup = await gatewayOverBackend((url) =>
      authConfig(url, {
        auth: { enabled: true, keys: [{ id: "a", key: KEY_A }], "public-status": publicStatus },
      })
    );
    for (const path of ["/status.json", "/metrics"]) {
      const open = await fetch(`${setup.gateway.url}${path}`);
      await open.body?.cancel();
      assert.equal(open.status, publicStatus ? 200 : 401, `${path} without a key`);
      const keyed = await fetch(`${setup.gateway.url}${path}`, { headers: bearer(KEY_A) });
      await keyed.body?.cancel();
      assert.equal(keyed.status, 200, `${path} with a key`);
    }
    const page = await fetch(`${setup.gateway.url}/status`);
    await page.body?.cancel();
    assert.equal(page.status, 200, "the page itself holds no data");
  }
});

Deno.test("the start log warns when /v1 is open to the network without authentication", async () => {
  for (const [host, warned] of [["0.0.0.0", true], ["127.0.0.1", false]] as const) {
    const lines: string[] = [];
    await using setup = await gatewayOverBackend(
      (url) => `server:\n  host: ${host}\n` + oneService("chat", [url]),
      { gateway: { log: (message) => lines.push(message) } },
    );
    assert.equal(
      lines.some((line) => /\/v1 is open to anyone who can reach 0\.0\.0\.0:8080/.test(line)),
      warned,
      `${host}: ${lines.join(" | ")}`,
    );
    assert.ok(setup.gateway.url);
  }
});

/**
 * Admin roles: a viewer reads, an operator runs instances and resets live state, an admin does
 * everything; a call a role does not allow is a 403 naming the role it needs, and the audit trail
 * names the caller's role.
 */
import assert from "node:assert/strict";
import { adminCall, instancePath } from "./fixtures/admin.ts";
import { gatewayOverBackend } from "./fixtures/gateway.ts";
import { signJwt } from "./fixtures/jwt.ts";

const KEYS = { viewer: "view-key-000001", operator: "ops-key-0000001", admin: "root-key-000001" };

function config(url: string): string {
  return JSON.stringify({
    admin: {
      keys: [
        { id: "watch", key: KEYS.viewer, role: "viewer" },
        { id: "ops", key: KEYS.operator, role: "operator" },
        { id: "root", key: KEYS.admin },
      ],
    },
    model: { services: { chat: { instances: [{ name: "m", "base-url": url }] } } },
  });
}

type Role = keyof typeof KEYS;

/** A call, the role it needs, and a body that makes it succeed for a role that may make it. */
interface Call {
  readonly method: string;
  readonly path: (backendUrl: string) => string;
  readonly body?: (backendUrl: string) => unknown;
  readonly needs: Role;
}

const CALLS: readonly Call[] = [
  { method: "GET", path: () => "/admin/config", needs: "viewer" },
  { method: "GET", path: () => "/admin/services/chat/instances", needs: "viewer" },
  { method: "GET", path: () => "/admin/audit", needs: "viewer" },
  { method: "GET", path: () => "/api/config/instance/type/chat", needs: "viewer" },
  {
    method: "PATCH",
    path: (url) => instancePath("chat", `m@${url}/v1/chat/completions`),
    body: () => ({ status: "draining" }),
    needs: "operator",
  },
  {
    method: "POST",
    path: () => "/admin/services/chat/instances",
    body: () => ({ name: "extra", "base-url": "http://127.0.0.1:9" }),
    needs: "operator",
  },
  { method: "POST", path: () => "/admin/breakers/reset", needs: "operator" },
  { method: "POST", path: () => "/admin/limiters/reset", needs: "operator" },
  { method: "GET", path: () => "/v1/stats", needs: "viewer" },
  { method: "POST", path: () => "/v1/stats/reset", needs: "operator" },
  { method: "POST", path: () => "/api/v1/stats/reset", needs: "operator" },
  {
    method: "PATCH",
    path: () => "/admin/services/chat",
    body: () => ({ "load-balance": { type: "round-robin" } }),
    needs: "admin",
  },
  {
    method: "POST",
    path: () => "/admin/keys",
    body: () => ({ id: "client-1" }),
    needs: "admin",
  },
  { method: "POST", path: () => "/admin/config/versions/1/apply", needs: "admin" },
];

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

for (const role of Object.keys(KEYS) as Role[]) {
  Deno.test(`an admin key with the ${role} role makes the calls its role allows`, async () => {
    for (const call of CALLS) {
      // A fresh gateway for each call, so that one call's change cannot decide the next.
      await using setup = await gatewayOverBackend(config);
      const url = setup.backend.url;
      const answer = await adminCall(setup.gateway.url, call.method, call.path(url), {
        key: KEYS[role],
        ifMatch: "*",
        ...(call.body ? { body: call.body(url) } : {}),
      });
      const what = `${role}: ${call.method} ${call.path(url)}`;
      if (RANK[role] >= RANK[call.needs]) {
        assert.ok(
          answer.status < 300,
          `${what} answered ${answer.status} ${JSON.stringify(answer.body)}`,
        );
      } else {
        assert.equal(answer.status, 403, what);
        assert.equal(answer.body.error.code, "insufficient_role", what);
        assert.match(answer.body.error.message, new RegExp(`needs the ${call.needs} role`), what);
        assert.match(answer.body.error.message, new RegExp(`has the ${role} role`), what);
      }
    }
  });
}

Deno.test("JAiRouter's endpoints take the same roles, in their own answer shape", async () => {
  await using setup = await gatewayOverBackend(config);
  const body = { name: "extra", baseUrl: "http://127.0.0.1:9" };
  const viewer = await adminCall<{ success: boolean; errorCode: string; message: string }>(
    setup.gateway.url,
    "POST",
    "/api/config/instance/add/chat",
    { key: KEYS.viewer, body },
  );
  assert.equal(viewer.status, 403);
  assert.equal(viewer.body.success, false);
  assert.match(viewer.body.message, /needs the operator role/);
  const operator = await adminCall<{ success: boolean }>(
    setup.gateway.url,
    "POST",
    "/api/config/instance/add/chat",
    { key: KEYS.operator, body },
  );
  assert.equal(operator.status, 201, JSON.stringify(operator.body));
  const rollback = await adminCall<{ success: boolean; message: string }>(
    setup.gateway.url,
    "POST",
    "/api/config/version/apply/1",
    { key: KEYS.operator },
  );
  assert.equal(rollback.status, 403);
  assert.match(rollback.body.message, /needs the admin role/);
});

Deno.test("the audit trail names the caller and its role", async () => {
  await using setup = await gatewayOverBackend(config);
  const id = `m@${setup.backend.url}/v1/chat/completions`;
  const drained = await adminCall(setup.gateway.url, "PATCH", instancePath("chat", id), {
    key: KEYS.operator,
    ifMatch: "*",
    body: { status: "draining" },
  });
  assert.equal(drained.status, 200, JSON.stringify(drained.body));
  const reset = await adminCall(setup.gateway.url, "POST", "/admin/breakers/reset", {
    key: KEYS.admin,
  });
  assert.equal(reset.status, 200);
  const audit = await adminCall<{ entries: { by: string; role?: string; action: string }[] }>(
    setup.gateway.url,
    "GET",
    "/admin/audit",
    { key: KEYS.viewer },
  );
  assert.deepEqual(
    audit.body.entries.filter((entry) => entry.by !== "file").map(({ by, role, action }) => ({
      by,
      role,
      action,
    })),
    [
      { by: "root", role: "admin", action: "reset breakers" },
      { by: "ops", role: "operator", action: "update instance" },
    ],
  );
});

const JWT_SECRET = "admin-jwt-hmac-secret-0123456789abcdef";

async function adminToken(claims: Record<string, unknown>, secret = JWT_SECRET): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  return await signJwt((_alg, data) => crypto.subtle.sign("HMAC", key, data), "HS256", {
    sub: "carol",
    iss: "https://idp.test",
    exp: Math.floor(Date.now() / 1000) + 600,
    ...claims,
  });
}

function jwtConfig(url: string): string {
  return JSON.stringify({
    admin: {
      jwt: {
        key: JWT_SECRET,
        algorithms: ["HS256"],
        issuer: "https://idp.test",
        "role-claim": "switchyard_role",
      },
    },
    model: { services: { chat: { instances: [{ name: "m", "base-url": url }] } } },
  });
}

Deno.test("an admin JWT's role claim gives its role; the audit trail names its subject", async () => {
  await using setup = await gatewayOverBackend(jwtConfig);
  const url = setup.gateway.url;
  const id = `m@${setup.backend.url}/v1/chat/completions`;
  const viewer = await adminToken({ switchyard_role: "viewer" });
  const operator = await adminToken({ switchyard_role: ["viewer", "operator"] });

  assert.equal((await adminCall(url, "GET", "/admin/config", { key: viewer })).status, 200);
  const refused = await adminCall(url, "PATCH", instancePath("chat", id), {
    key: viewer,
    ifMatch: "*",
    body: { weight: 2 },
  });
  assert.equal(refused.status, 403);
  assert.match(refused.body.error.message, /needs the operator role; admin key "jwt:carol" has/);
  const allowed = await adminCall(url, "PATCH", instancePath("chat", id), {
    key: operator,
    ifMatch: "*",
    body: { weight: 2 },
  });
  assert.equal(allowed.status, 200, JSON.stringify(allowed.body));
  const audit = await adminCall<{ entries: { by: string; role?: string }[] }>(
    url,
    "GET",
    "/admin/audit",
    { key: viewer },
  );
  assert.deepEqual(
    { by: audit.body.entries[0]!.by, role: audit.body.entries[0]!.role },
    { by: "jwt:carol", role: "operator" },
  );
});

Deno.test("an admin JWT without a role, or not signed by the key, is refused", async () => {
  await using setup = await gatewayOverBackend(jwtConfig);
  const url = setup.gateway.url;
  const roleless = await adminCall(url, "GET", "/admin/config", {
    key: await adminToken({ switchyard_role: "superuser" }),
  });
  assert.equal(roleless.status, 403);
  assert.equal(roleless.body.error.code, "insufficient_role");
  assert.match(roleless.body.error.message, /"switchyard_role" claim names no admin role/);
  const forged = await adminCall(url, "GET", "/admin/config", {
    key: await adminToken({ switchyard_role: "admin" }, "another-secret-of-enough-length-42"),
  });
  assert.equal(forged.status, 401);
  assert.match(forged.body.error.message, /^Invalid admin token/);
  const none = await adminCall(url, "GET", "/admin/config");
  assert.equal(none.status, 401);
});

/**
 * Teams made through the admin API: validated like the file's, their keys bound by them at once,
 * kept in the store for every gateway sharing it, and deleted only once they have no keys.
 */
import assert from "node:assert/strict";
import { adminCall, type ErrorBody } from "./fixtures/admin.ts";
import { startFakeBackend } from "./fixtures/fake_backend.ts";
import { startGateway } from "./fixtures/gateway.ts";
import { eventually } from "./fixtures/gate.ts";

const ADMIN = "sk-teams-admin";

function config(url: string): string {
  const instance = (name: string) => ({ name, "base-url": url });
  return JSON.stringify({
    admin: { keys: [{ id: "root", key: ADMIN }, { id: "ops", key: "sk-ops", role: "operator" }] },
    auth: { enabled: true, teams: [{ id: "filed" }], keys: [] },
    model: { services: { chat: { instances: [instance("qwen3-8b"), instance("llama3")] } } },
  });
}

interface TeamInfo {
  readonly id: string;
  readonly source: string;
  readonly keys: string[];
  readonly models?: string[];
  readonly priority: string;
  readonly by?: string;
}

async function chat(url: string, key: string, model: string): Promise<number> {
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ model, messages: [] }),
  });
  await response.body?.cancel();
  return response.status;
}

Deno.test("a team made through the admin API binds the keys put in it", async () => {
  await using backend = await startFakeBackend();
  await using gateway = await startGateway(config(backend.url));
  const url = gateway.url;
  const created = await adminCall<TeamInfo>(url, "POST", "/admin/teams", {
    key: ADMIN,
    body: { id: "research", models: ["qwen3-*"], priority: "high" },
  });
  assert.equal(created.status, 201);
  assert.equal(created.body.source, "admin");
  assert.equal(created.body.by, "root");
  assert.equal(created.body.priority, "high");

  const key = await adminCall<{ key: string }>(url, "POST", "/admin/keys", {
    key: ADMIN,
    body: { id: "lead", team: "research" },
  });
  assert.equal(key.status, 201);
  assert.equal(await chat(url, key.body.key, "qwen3-8b"), 200);
  assert.equal(await chat(url, key.body.key, "llama3"), 403);

  // Narrowed and then disabled, the team binds its key at once.
  const narrowed = await adminCall<TeamInfo>(url, "PATCH", "/admin/teams/research", {
    key: ADMIN,
    body: { models: ["none-*"] },
  });
  assert.equal(narrowed.status, 200);
  assert.deepEqual(narrowed.body.keys, ["lead"]);
  assert.equal(await chat(url, key.body.key, "qwen3-8b"), 403);
  await adminCall(url, "PATCH", "/admin/teams/research", { key: ADMIN, body: { enabled: false } });
  assert.equal(await chat(url, key.body.key, "qwen3-8b"), 401);

  const list = await adminCall<{ teams: TeamInfo[] }>(url, "GET", "/admin/teams", { key: ADMIN });
  assert.deepEqual(
    list.body.teams.map((team) => [team.id, team.source, team.keys]),
    [["filed", "config", []], ["research", "admin", ["lead"]]],
  );

  const audit = await adminCall<{ entries: { action: string; target: string }[] }>(
    url,
    "GET",
    "/admin/audit",
    { key: ADMIN },
  );
  const actions = audit.body.entries.map((entry) => `${entry.action} ${entry.target}`);
  assert.ok(actions.includes("create team research"), actions.join("; "));
  assert.ok(actions.includes("update team research"), actions.join("; "));
});

Deno.test("a team is refused what the file would refuse, and kept while it has keys", async () => {
  await using backend = await startFakeBackend();
  await using gateway = await startGateway(config(backend.url));
  const url = gateway.url;
  const call = (method: string, path: string, body?: unknown, key = ADMIN) =>
    adminCall<ErrorBody>(url, method, path, { key, ...(body === undefined ? {} : { body }) });

  const invalid = await call("POST", "/admin/teams", { id: "x", priority: "urgent", color: 1 });
  assert.equal(invalid.status, 400);
  assert.equal(invalid.body.error.code, "invalid_config");
  assert.match(invalid.body.error.message, /priority/);
  assert.match(invalid.body.error.message, /color/);

  const filed = await call("POST", "/admin/teams", { id: "filed" });
  assert.equal(filed.status, 409);
  assert.equal(filed.body.error.code, "team_exists");
  const inConfig = await call("PATCH", "/admin/teams/filed", { enabled: false });
  assert.equal(inConfig.status, 409);
  assert.equal(inConfig.body.error.code, "team_in_config");

  const forbidden = await call("POST", "/admin/teams", { id: "ops-team" }, "sk-ops");
  assert.equal(forbidden.status, 403);
  assert.equal(forbidden.body.error.code, "insufficient_role");

  assert.equal((await call("POST", "/admin/teams", { id: "lab", priority: "high" })).status, 201);
  assert.equal(
    (await call("POST", "/admin/keys", { id: "k", team: "lab", priority: "high" })).status,
    201,
  );
  // Lowering the team's class below its key's is refused, naming the key.
  const lowered = await call("PATCH", "/admin/teams/lab", { priority: "low" });
  assert.equal(lowered.status, 400);
  assert.match(lowered.body.error.message, /the key "k"/);
  const renamed = await call("PATCH", "/admin/teams/lab", { id: "other" });
  assert.equal(renamed.status, 400);

  const inUse = await call("DELETE", "/admin/teams/lab");
  assert.equal(inUse.status, 409);
  assert.equal(inUse.body.error.code, "team_in_use");
  assert.match(inUse.body.error.message, /\(k\)/);
  assert.equal((await call("DELETE", "/admin/keys/k")).status, 204);
  assert.equal((await call("DELETE", "/admin/teams/lab")).status, 204);
  assert.equal((await call("DELETE", "/admin/teams/lab")).status, 404);
  const orphan = await call("POST", "/admin/keys", { id: "k2", team: "lab" });
  assert.equal(orphan.status, 400);
});

Deno.test("a team made on one gateway binds keys on another sharing the store", async () => {
  await using backend = await startFakeBackend();
  using kv = await Deno.openKv(":memory:");
  await using first = await startGateway(config(backend.url), { kv });
  await using second = await startGateway(config(backend.url), { kv });
  await adminCall(first.url, "POST", "/admin/teams", {
    key: ADMIN,
    body: { id: "research", models: ["qwen3-*"] },
  });
  const key = await adminCall<{ key: string }>(first.url, "POST", "/admin/keys", {
    key: ADMIN,
    body: { id: "lead", team: "research" },
  });
  await eventually(
    async () => assert.equal(await chat(second.url, key.body.key, "qwen3-8b"), 200),
    5_000,
  );
  assert.equal(await chat(second.url, key.body.key, "llama3"), 403);
});

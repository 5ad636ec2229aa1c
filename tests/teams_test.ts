/**
 * Teams of client keys: a key takes its team's models, shared limit and priority class, and may
 * narrow them; a disabled or missing team refuses its keys.
 */
import assert from "node:assert/strict";
import { adminCall } from "./fixtures/admin.ts";
import { startFakeBackend } from "./fixtures/fake_backend.ts";
import { startGateway } from "./fixtures/gateway.ts";
import { eventually } from "./fixtures/gate.ts";
import { LogLines } from "./fixtures/log_lines.ts";
import { Logger } from "../src/logging/logger.ts";

const KEYS = {
  lead: "sk-team-lead-000001",
  intern: "sk-team-intern-0001",
  outsider: "sk-outsider-0000001",
};

function config(url: string, team: Record<string, unknown> = {}): string {
  const instance = (name: string) => ({
    name,
    "base-url": url,
    adapter: "vllm",
    "forward-priority": true,
  });
  return JSON.stringify({
    auth: {
      enabled: true,
      teams: [{
        id: "research",
        models: ["qwen3-*"],
        "rate-limit": { capacity: 3, rate: 0.001 },
        priority: "high",
        ...team,
      }],
      keys: [
        { id: "lead", key: KEYS.lead, team: "research" },
        { id: "intern", key: KEYS.intern, team: "research", models: ["qwen3-8b"], priority: "low" },
        { id: "outsider", key: KEYS.outsider },
      ],
    },
    model: {
      services: {
        chat: { instances: [instance("qwen3-8b"), instance("qwen3-32b"), instance("llama3")] },
      },
    },
  });
}

async function chat(url: string, key: string, model: string) {
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ model, messages: [] }),
  });
  return { status: response.status, body: await response.json() };
}

Deno.test("a team's keys use its models, and a key may narrow them", async () => {
  await using backend = await startFakeBackend();
  await using gateway = await startGateway(config(backend.url, { "rate-limit": undefined }));
  assert.equal((await chat(gateway.url, KEYS.lead, "qwen3-32b")).status, 200);
  const outside = await chat(gateway.url, KEYS.lead, "llama3");
  assert.equal(outside.status, 403);
  assert.equal(outside.body.error.code, "permission_denied");
  assert.equal((await chat(gateway.url, KEYS.intern, "qwen3-8b")).status, 200);
  assert.equal((await chat(gateway.url, KEYS.intern, "qwen3-32b")).status, 403);
  assert.equal((await chat(gateway.url, KEYS.outsider, "llama3")).status, 200);
});

Deno.test("a team's limit is one limit all its keys share", async () => {
  await using backend = await startFakeBackend();
  await using gateway = await startGateway(config(backend.url));
  const statuses = [];
  for (const key of [KEYS.lead, KEYS.intern, KEYS.lead]) {
    statuses.push((await chat(gateway.url, key, "qwen3-8b")).status);
  }
  assert.deepEqual(statuses, [200, 200, 200]);
  const refused = await chat(gateway.url, KEYS.intern, "qwen3-8b");
  assert.equal(refused.status, 429);
  assert.match(refused.body.error.message, /^Rate limit reached for your team/);
  assert.equal((await chat(gateway.url, KEYS.outsider, "qwen3-8b")).status, 200);
});

Deno.test("a key takes its team's class unless it lowers it", async () => {
  await using backend = await startFakeBackend();
  await using gateway = await startGateway(config(backend.url, { "rate-limit": undefined }));
  await chat(gateway.url, KEYS.lead, "qwen3-8b");
  await chat(gateway.url, KEYS.intern, "qwen3-8b");
  await chat(gateway.url, KEYS.outsider, "qwen3-8b");
  const priorities = [1, 2, 3].map(async (n) => {
    const body = JSON.parse(new TextDecoder().decode((await backend.received(n)).body));
    return body.priority;
  });
  // vLLM's priority: -1 for high, 1 for low, none for normal.
  assert.deepEqual(await Promise.all(priorities), [-1, 1, undefined]);
  const raised = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${KEYS.intern}`,
      "content-type": "application/json",
      "x-priority": "normal",
    },
    body: JSON.stringify({ model: "qwen3-8b", messages: [] }),
  });
  assert.equal(raised.status, 403);
  await raised.body?.cancel();
});

Deno.test("a disabled team refuses its keys", async () => {
  await using backend = await startFakeBackend();
  await using gateway = await startGateway(config(backend.url, { enabled: false }));
  const refused = await chat(gateway.url, KEYS.lead, "qwen3-8b");
  assert.equal(refused.status, 401);
  assert.equal(
    refused.body.error.message,
    'The team "research" of the API key "lead" is disabled',
  );
  assert.equal((await chat(gateway.url, KEYS.outsider, "qwen3-8b")).status, 200);
});

Deno.test("keys made through the admin API join a team, within its rules", async () => {
  await using backend = await startFakeBackend();
  await using gateway = await startGateway(config(backend.url, { "rate-limit": undefined }));
  const created = await adminCall<{ key: string; team: string }>(
    gateway.url,
    "POST",
    "/admin/keys",
    {
      body: { id: "bot", team: "research" },
    },
  );
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal(created.body.team, "research");
  assert.equal((await chat(gateway.url, created.body.key, "qwen3-8b")).status, 200);
  assert.equal((await chat(gateway.url, created.body.key, "llama3")).status, 403);
  const unknown = await adminCall(gateway.url, "POST", "/admin/keys", {
    body: { id: "stray", team: "marketing" },
  });
  assert.equal(unknown.status, 400);
  assert.match(unknown.body.error.message, /team: No team "marketing" in auth\.teams/);
  const above = await adminCall(gateway.url, "POST", "/admin/keys", {
    body: { id: "eager", team: "research", "priority-header": true },
  });
  assert.equal(above.status, 400);
  assert.match(above.body.error.message, /does not allow priority-header/);
});

Deno.test("a key's team must exist, and its class may not be above the team's", async () => {
  const bad = JSON.stringify({
    auth: {
      teams: [{ id: "ops", priority: "low" }],
      keys: [
        { id: "a", key: "sk-aaaaaaaaaaaaaa", team: "nobody" },
        { id: "b", key: "sk-bbbbbbbbbbbbbb", team: "ops", priority: "normal" },
      ],
    },
  });
  await assert.rejects(startGateway(bad), (error: Error) => {
    assert.match(
      error.message,
      /auth\.keys\[0\]\.team \(line 1\): No team "nobody" in auth\.teams/,
    );
    assert.match(
      error.message,
      /auth\.keys\[1\]\.priority \(line 1\): The priority "normal" is above the team's "low"/,
    );
    return true;
  });
});

Deno.test("a request line names the key's team", async () => {
  const output = new LogLines();
  const logger = new Logger({ level: "info", format: "json", output });
  await using backend = await startFakeBackend();
  await using gateway = await startGateway(config(backend.url, { "rate-limit": undefined }), {
    logger,
  });
  await chat(gateway.url, KEYS.lead, "qwen3-8b");
  await chat(gateway.url, KEYS.outsider, "qwen3-8b");
  const lines = await eventually(() => {
    const found = output.lines.map((line) => JSON.parse(line)).filter((line) => line.request_id);
    assert.equal(found.length, 2);
    return Promise.resolve(found);
  }, 2000);
  assert.deepEqual(lines.map((line) => [line.client, line.team]), [
    ["lead", "research"],
    ["outsider", undefined],
  ]);
});

Deno.test("a team's token limit is shared by its keys too", async () => {
  await using backend = await startFakeBackend();
  await using gateway = await startGateway(
    config(backend.url, { "rate-limit": { "tokens-per-minute": 600 } }),
  );
  const ask = (key: string) =>
    fetch(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      // An estimate over the whole budget is let through only while the budget is full.
      body: JSON.stringify({ model: "qwen3-8b", messages: [], max_tokens: 1000 }),
    });
  const first = await ask(KEYS.lead);
  assert.equal(first.status, 200);
  await first.body?.cancel();
  const second = await ask(KEYS.intern);
  assert.equal(second.status, 429);
  const body = await second.json();
  assert.equal(body.error.type, "tokens");
  assert.match(body.error.message, /team/);
  const outsider = await ask(KEYS.outsider);
  assert.equal(outsider.status, 200, "a key outside the team has its own");
  await outsider.body?.cancel();
});

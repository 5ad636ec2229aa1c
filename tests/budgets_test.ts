/**
 * Daily and monthly budgets of keys and teams: requests, tokens and spend, counted in a ledger
 * that survives restarts, renewed at the configured zone's midnight, and reported per key, team,
 * model and day by `GET /admin/usage`.
 */
import assert from "node:assert/strict";
import { adminCall } from "./fixtures/admin.ts";
import { startFakeBackend } from "./fixtures/fake_backend.ts";
import { manualSchedule } from "./fixtures/clock.ts";
import { Gate } from "./fixtures/gate.ts";
import { scrape } from "./fixtures/prometheus.ts";
import { spawnGateway, startGateway, withTempConfig } from "./fixtures/gateway.ts";

const KEYS = { alice: "sk-alice-budget-0001", bob: "sk-bob-budget-00001" };

function config(
  url: string,
  options: {
    readonly alice?: Record<string, unknown>;
    readonly team?: Record<string, unknown>;
    readonly zone?: string;
    readonly price?: Record<string, number>;
    readonly server?: Record<string, unknown>;
    /** Settings of the chat service, next to its instances. */
    readonly chat?: Record<string, unknown>;
    /** Settings of its one instance. */
    readonly instance?: Record<string, unknown>;
  } = {},
): string {
  return JSON.stringify({
    ...(options.server ? { server: options.server } : {}),
    auth: {
      enabled: true,
      "budget-time-zone": options.zone ?? "UTC",
      teams: [{ id: "lab", ...(options.team ? { budget: options.team } : {}) }],
      keys: [
        {
          id: "alice",
          key: KEYS.alice,
          team: "lab",
          ...(options.alice ? { budget: options.alice } : {}),
        },
        { id: "bob", key: KEYS.bob, team: "lab" },
      ],
    },
    model: {
      services: {
        chat: {
          ...options.chat,
          instances: [{
            name: "m",
            "base-url": url,
            ...(options.price ? { price: options.price } : {}),
            ...options.instance,
          }],
        },
      },
    },
  });
}

async function chat(url: string, key: string) {
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "m", messages: [] }),
  });
  return {
    status: response.status,
    retryAfter: response.headers.get("retry-after"),
    body: await response.json(),
  };
}

Deno.test("a key's daily request budget refuses the request past it, until midnight", async () => {
  let now = Date.UTC(2026, 11, 5, 23, 0);
  await using backend = await startFakeBackend();
  await using gateway = await startGateway(
    config(backend.url, { alice: { "requests-per-day": 2 } }),
    { now: () => now },
  );
  assert.equal((await chat(gateway.url, KEYS.alice)).status, 200);
  assert.equal((await chat(gateway.url, KEYS.alice)).status, 200);
  const refused = await chat(gateway.url, KEYS.alice);
  assert.equal(refused.status, 429);
  assert.equal(refused.body.error.code, "budget_exceeded");
  assert.equal(
    refused.body.error.message,
    'The daily request budget of the API key "alice" (2 requests) is used up; it renews at ' +
      "2026-12-06T00:00:00.000Z",
  );
  assert.equal(refused.retryAfter, "3600");
  assert.equal((await chat(gateway.url, KEYS.bob)).status, 200, "another key has its own");
  now = Date.UTC(2026, 11, 6, 0, 0, 1);
  assert.equal((await chat(gateway.url, KEYS.alice)).status, 200, "a new day, a new budget");
});

Deno.test("a team's token budget counts every key's tokens, from the backends' usage", async () => {
  await using backend = await startFakeBackend();
  // Every answer of the fake backend reports 3 prompt and 3 completion tokens.
  await using gateway = await startGateway(config(backend.url, { team: { "tokens-per-day": 10 } }));
  assert.equal((await chat(gateway.url, KEYS.alice)).status, 200);
  assert.equal((await chat(gateway.url, KEYS.bob)).status, 200);
  const refused = await chat(gateway.url, KEYS.alice);
  assert.equal(refused.status, 429);
  assert.equal(refused.body.error.type, "tokens");
  assert.match(refused.body.error.message, /daily token budget of the team "lab" \(10 tokens\)/);
});

Deno.test("a stream whose backend reports no usage counts its events against a token budget", async () => {
  // Three content events, and no usage event even though the gateway asks for one.
  await using backend = await startFakeBackend({ stream: { ignoresIncludeUsage: true } });
  await using gateway = await startGateway(config(backend.url, { alice: { "tokens-per-day": 5 } }));
  const stream = () =>
    fetch(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${KEYS.alice}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "m", messages: [], stream: true }),
    });
  for (let i = 0; i < 2; i++) {
    const answered = await stream();
    assert.equal(answered.status, 200);
    assert.match(await answered.text(), /data: \[DONE\]/);
  }
  // Settled before its end went out, each stream still counts once in the metrics.
  const metrics = await scrape(gateway.url, { authorization: `Bearer ${KEYS.alice}` });
  assert.equal(
    metrics.value("switchyard_inter_token_latency_seconds_count", { service: "chat", model: "m" }),
    2,
  );
  const refused = await stream();
  assert.equal(refused.status, 429, "3 + 3 tokens counted from the events: 5 used up");
  const body = await refused.json() as { error: { code: string; type: string } };
  assert.equal(body.error.code, "budget_exceeded");
  assert.equal(body.error.type, "tokens");
});

Deno.test("a monthly spend cap counts what answers cost at the instance's price", async () => {
  await using backend = await startFakeBackend();
  await using gateway = await startGateway(
    config(backend.url, { alice: { "spend-per-month": 0.015 }, price: { request: 0.01 } }),
  );
  assert.equal((await chat(gateway.url, KEYS.alice)).status, 200);
  assert.equal((await chat(gateway.url, KEYS.alice)).status, 200);
  const refused = await chat(gateway.url, KEYS.alice);
  assert.equal(refused.status, 429);
  assert.match(
    refused.body.error.message,
    /monthly spend cap of the API key "alice" \(0\.015 USD\)/,
  );
  assert.match(refused.body.error.message, /renews at \d{4}-\d{2}-01T00:00:00\.000Z$/);
});

Deno.test("use survives a restart of the gateway", async () => {
  await using backend = await startFakeBackend();
  using kv = await Deno.openKv(":memory:");
  const written = config(backend.url, { alice: { "requests-per-day": 2 } });
  {
    await using gateway = await startGateway(written, { kv });
    assert.equal((await chat(gateway.url, KEYS.alice)).status, 200);
    assert.equal((await chat(gateway.url, KEYS.alice)).status, 200);
  }
  await using again = await startGateway(written, { kv });
  assert.equal((await chat(again.url, KEYS.alice)).status, 429);
});

Deno.test("a gateway killed outright has stored the use of every answer it gave under a budget", async () => {
  await using backend = await startFakeBackend();
  const dir = await Deno.makeTempDir();
  const store = ["--kv", `${dir}/usage.kv`];
  // The periodic sync would not come for a minute: each answer's end waits for its use stored.
  const written = config(backend.url, {
    alice: { "tokens-per-day": 1_000_000 },
    server: { "budgets-sync-interval": 60_000 },
  });
  try {
    await withTempConfig(written, async (path) => {
      {
        await using gateway = await spawnGateway(["--config", path, ...store]);
        for (let i = 0; i < 3; i++) assert.equal((await chat(gateway.url, KEYS.alice)).status, 200);
        // A stream whose client did not ask for usage: the gateway asks, and hides it.
        const streamed = await fetch(`${gateway.url}/v1/chat/completions`, {
          method: "POST",
          headers: { authorization: `Bearer ${KEYS.alice}`, "content-type": "application/json" },
          body: JSON.stringify({ model: "m", messages: [], stream: true }),
        });
        const events = await streamed.text();
        assert.doesNotMatch(events, /"usage"/);
        assert.match(events, /data: \[DONE\]/);
        gateway.process.kill("SIGKILL");
        await gateway.exited();
      }
      await using restarted = await spawnGateway(["--config", path, ...store]);
      const response = await fetch(`${restarted.url}/admin/usage?key=alice`);
      const { usage } = await response.json() as {
        usage: { requests: number; input_tokens: number; output_tokens: number }[];
      };
      const sum = (field: "requests" | "input_tokens" | "output_tokens") =>
        usage.reduce((total, row) => total + row[field], 0);
      const answered = backend.requests.length;
      assert.equal(answered, 4);
      assert.equal(sum("requests"), 4, JSON.stringify(usage));
      // Each answer, streamed or not, reports 3 prompt and 3 completion tokens.
      assert.equal(sum("input_tokens"), 12, JSON.stringify(usage));
      assert.equal(sum("output_tokens"), 12, JSON.stringify(usage));
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a refusal after a request was counted goes out once its count is stored", async () => {
  const hold = new Gate();
  await using backend = await startFakeBackend({ hold });
  const dir = await Deno.makeTempDir();
  const store = ["--kv", `${dir}/usage.kv`];
  const written = config(backend.url, {
    alice: { "requests-per-day": 100 },
    server: { "budgets-sync-interval": 60_000 },
    chat: { "queue-size": 0 },
    instance: { "max-concurrency": 1 },
  });
  try {
    await withTempConfig(written, async (path) => {
      {
        await using gateway = await spawnGateway(["--config", path, ...store]);
        // Its connection is cut by the kill.
        const held = chat(gateway.url, KEYS.alice).catch(() => undefined);
        await backend.received(1);
        const refused = await chat(gateway.url, KEYS.alice);
        assert.equal(refused.status, 429);
        assert.equal(refused.body.error.code, "queue_full");
        gateway.process.kill("SIGKILL");
        await gateway.exited();
        hold.open();
        await held;
      }
      await using restarted = await spawnGateway(["--config", path, ...store]);
      const response = await fetch(`${restarted.url}/admin/usage?key=alice`);
      const { usage } = await response.json() as { usage: { requests: number }[] };
      // Both were counted when let through; the refusal's answer waited for both to be stored.
      assert.equal(usage.reduce((total, row) => total + row.requests, 0), 2, JSON.stringify(usage));
    });
  } finally {
    hold.open();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("gateways sharing a store see each other's use every server.budgets-sync-interval", async () => {
  await using backend = await startFakeBackend();
  using kv = await Deno.openKv(":memory:");
  const now = () => Date.UTC(2026, 11, 5, 12);
  const shared = config(backend.url, {
    alice: { "requests-per-day": 1 },
    server: { "budgets-sync-interval": 200 },
  });
  const firstTimers = manualSchedule();
  const secondTimers = manualSchedule();
  await using first = await startGateway(shared, { kv, now, schedule: firstTimers.schedule });
  await using second = await startGateway(shared, { kv, now, schedule: secondTimers.schedule });
  assert.ok(firstTimers.waiting().includes(200), `${firstTimers.waiting()}`);

  assert.equal((await chat(first.url, KEYS.alice)).status, 200);
  assert.equal((await chat(second.url, KEYS.alice)).status, 200, "neither has synced yet");
  for (const timers of [firstTimers, secondTimers, firstTimers]) {
    const synced = timers.nextScheduled();
    timers.fireAll();
    await synced;
    // Every timer that was waiting has run; the ledger's has been set again once its write ended.
    while (!timers.waiting().includes(200)) await timers.nextScheduled();
  }
  assert.equal((await chat(first.url, KEYS.alice)).status, 429);
  assert.equal((await chat(second.url, KEYS.alice)).status, 429);
});

Deno.test("GET /admin/usage reports use per key, team, model and day", async () => {
  await using backend = await startFakeBackend();
  await using gateway = await startGateway(
    config(backend.url, { price: { input: 1000, output: 2000 } }),
    { now: () => Date.UTC(2026, 11, 5, 12) },
  );
  await chat(gateway.url, KEYS.alice);
  await chat(gateway.url, KEYS.alice);
  await chat(gateway.url, KEYS.bob);
  const report = await adminCall<{
    from: string;
    to: string;
    time_zone: string;
    usage: Record<string, unknown>[];
  }>(gateway.url, "GET", "/admin/usage");
  assert.equal(report.status, 200, JSON.stringify(report.body));
  assert.equal(report.body.from, "2026-12-05");
  assert.equal(report.body.time_zone, "UTC");
  const rows = report.body.usage.map((
    row,
  ) => [
    row.key ?? `team ${row.team}`,
    row.model,
    row.requests,
    row.input_tokens,
    row.output_tokens,
  ]);
  assert.deepEqual(rows.sort(), [
    ["alice", "m", 2, 6, 6],
    ["bob", "m", 1, 3, 3],
    ["team lab", "m", 3, 9, 9],
  ]);
  const spend = report.body.usage.find((row) => row.key === "alice")!.spend_usd as number;
  // 6 input tokens at 1000 USD and 6 output tokens at 2000 USD per million.
  assert.ok(Math.abs(spend - 0.018) < 1e-9, String(spend));
  const only = await adminCall<{ usage: unknown[] }>(gateway.url, "GET", "/admin/usage?key=bob");
  assert.equal(only.body.usage.length, 1);
  // A key's row names the team it is in; a team's filter keeps its row and its keys'.
  assert.equal(report.body.usage.find((row) => row.key === "alice")!.team, "lab");
  const team = await adminCall<{ usage: { key: string | null; team: string }[] }>(
    gateway.url,
    "GET",
    "/admin/usage?team=lab",
  );
  assert.deepEqual(
    team.body.usage.map((row) => `${row.key}/${row.team}`).sort(),
    ["alice/lab", "bob/lab", "null/lab"],
  );
  const bad = await adminCall(gateway.url, "GET", "/admin/usage?from=yesterday");
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.param, "from");
});

Deno.test("a budget's day begins at midnight in the configured time zone", async () => {
  // 15:30 UTC is 23:30 in Shanghai; 16:00 UTC is midnight there.
  let now = Date.UTC(2026, 11, 5, 15, 30);
  await using backend = await startFakeBackend();
  await using gateway = await startGateway(
    config(backend.url, { alice: { "requests-per-day": 1 }, zone: "Asia/Shanghai" }),
    { now: () => now },
  );
  assert.equal((await chat(gateway.url, KEYS.alice)).status, 200);
  const refused = await chat(gateway.url, KEYS.alice);
  assert.match(refused.body.error.message, /renews at 2026-12-05T16:00:00\.000Z$/);
  now = Date.UTC(2026, 11, 5, 16, 0, 1);
  assert.equal((await chat(gateway.url, KEYS.alice)).status, 200);
});

Deno.test("use is kept only with client authentication, and an unknown zone is a config error", async () => {
  await using backend = await startFakeBackend();
  await using open = await startGateway(
    `model:\n  services:\n    chat:\n      instances:\n        - { name: m, base-url: "${backend.url}" }\n`,
  );
  const report = await adminCall(open.url, "GET", "/admin/usage");
  assert.equal(report.status, 404);
  assert.equal(report.body.error.code, "usage_not_kept");
  await assert.rejects(
    startGateway(config(backend.url, { zone: "Mars/Olympus" })),
    /auth\.budget-time-zone \(line 1\): Not a time zone the runtime knows/,
  );
});

Deno.test("JAiRouter's key settings are read as the budget, limit, addresses and expiry they name", async () => {
  let now = Date.UTC(2026, 11, 5, 12);
  await using backend = await startFakeBackend();
  await using gateway = await startGateway(
    JSON.stringify({
      auth: {
        enabled: true,
        keys: [{
          id: "legacy",
          key: "sk-legacy-000000001",
          dailyRequestLimit: 3,
          dailyTokenLimit: 1000,
          rateLimitPerMinute: 2,
          allowedIpAddresses: ["127.0.0.1"],
          expiresAt: "2026-12-31T00:00:00Z",
        }],
      },
      model: { services: { chat: { instances: [{ name: "m", "base-url": backend.url }] } } },
    }),
    { now: () => now },
  );
  const legacy = "sk-legacy-000000001";
  assert.equal((await chat(gateway.url, legacy)).status, 200);
  assert.equal((await chat(gateway.url, legacy)).status, 200);
  const perMinute = await chat(gateway.url, legacy);
  assert.equal(perMinute.status, 429);
  assert.equal(perMinute.body.error.code, "rate_limit_exceeded");
  now += 61_000;
  assert.equal((await chat(gateway.url, legacy)).status, 200);
  now += 61_000;
  const daily = await chat(gateway.url, legacy);
  assert.equal(daily.body.error.code, "budget_exceeded");
  assert.match(
    daily.body.error.message,
    /daily request budget of the API key "legacy" \(3 requests\)/,
  );
  now = Date.UTC(2027, 0, 2);
  const expired = await chat(gateway.url, legacy);
  assert.equal(expired.status, 401);
  assert.match(expired.body.error.message, /has expired/);
  const admin = await adminCall(gateway.url, "POST", "/admin/keys", {
    body: { id: "new", dailyRequestLimit: 5 },
  });
  assert.equal(admin.status, 400);
  assert.match(admin.body.error.message, /takes budget\.requests-per-day/);
});

Deno.test("a key with a JAiRouter setting and ours for the same thing is a config error", async () => {
  await assert.rejects(
    startGateway(JSON.stringify({
      auth: {
        keys: [{
          id: "k",
          key: "sk-kkkkkkkkkkkkkk",
          dailyRequestLimit: 3,
          budget: { "requests-per-day": 4 },
        }],
      },
    })),
    /auth\.keys\[0\]\.dailyRequestLimit \(line 1\): Set dailyRequestLimit or budget\.requests-per-day, not both/,
  );
});

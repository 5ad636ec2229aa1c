/**
 * `--workers 2`: one port served by two workers of one process, as clients and operators see it.
 * Which worker answered is in the `x-switchyard-worker` header.
 */
import assert from "node:assert/strict";
import { adminCall, instancePath } from "./fixtures/admin.ts";
import { startFakeBackend } from "./fixtures/fake_backend.ts";
import { oneService, runCli, spawnGateway, withTempConfig } from "./fixtures/gateway.ts";
import { eventually } from "./fixtures/gate.ts";
import { Scrape } from "./fixtures/prometheus.ts";

/** A request on a connection of its own, so that either worker may take it. */
function fresh(url: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set("connection", "close");
  return fetch(url, { ...init, headers });
}

/** Posts a chat request for `model`; which worker answered, and which backend. */
async function chat(baseUrl: string, model = "m", key?: string) {
  const response = await fresh(`${baseUrl}/v1/chat/completions`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(key === undefined ? {} : { authorization: `Bearer ${key}` }),
    },
    body: JSON.stringify({ model, messages: [{ role: "user", content: "Hi" }] }),
  });
  const body = await response.json();
  return {
    status: response.status,
    worker: response.headers.get("x-switchyard-worker"),
    backend: body.backend as string | undefined,
  };
}

/** A client whose one kept-alive connection landed on worker `worker`. */
async function pinnedTo(baseUrl: string, worker: string): Promise<Deno.HttpClient> {
  for (let tries = 0; tries < 200; tries++) {
    const client = Deno.createHttpClient({});
    const response = await fetch(`${baseUrl}/health`, { client });
    await response.body?.cancel();
    if (response.headers.get("x-switchyard-worker") === worker) return client;
    client.close();
  }
  throw new Error(`No connection landed on worker ${worker}`);
}

/** Sends chat requests until each worker has answered `each` of them; returns them all. */
async function fromBothWorkers(baseUrl: string, each: number, model = "m", key?: string) {
  const answers: Awaited<ReturnType<typeof chat>>[] = [];
  const count = (worker: string) => answers.filter((answer) => answer.worker === worker).length;
  while (count("1") < each || count("2") < each) {
    answers.push(await chat(baseUrl, model, key));
    assert.ok(answers.length < 400, "the kernel spreads connections over both workers");
  }
  return answers;
}

Deno.test("--workers 2: both serve; drains, config changes and metrics hold across them", async () => {
  await using a = await startFakeBackend({ name: "a" });
  await using b = await startFakeBackend({ name: "b" });
  const store = await Deno.makeTempFile({ suffix: ".kv" });
  try {
    await withTempConfig(oneService("chat", [a.url, b.url]), async (path) => {
      await using gateway = await spawnGateway(["--config", path, "--kv", store, "--workers", "2"]);
      await gateway.waitForOutput("2 workers");
      let sent = 0;

      const spread = await fromBothWorkers(gateway.url, 3);
      sent += spread.length;
      assert.ok(spread.every((answer) => answer.status === 200));

      // A drain through one worker: the other one honours it by the time the answer is in.
      using one = await pinnedTo(gateway.url, "1");
      using two = await pinnedTo(gateway.url, "2");
      const drained = await fetch(
        `${gateway.url}${instancePath("chat", `m@${a.url}/v1/chat/completions`)}`,
        {
          client: one,
          method: "PATCH",
          headers: { "content-type": "application/json", "if-match": "*" },
          body: JSON.stringify({ status: "draining" }),
        },
      );
      assert.equal(drained.status, 200, await drained.text());
      for (let i = 0; i < 4; i++) {
        const response = await fetch(`${gateway.url}/v1/chat/completions`, {
          client: two,
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "Hi" }] }),
        });
        assert.equal(response.headers.get("x-switchyard-worker"), "2");
        assert.equal((await response.json()).backend, "b");
        sent++;
      }
      // A request served by worker 2 is found through worker 1, as the playground asks for it.
      const served = await fetch(`${gateway.url}/v1/chat/completions`, {
        client: two,
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "Hi" }] }),
      });
      await served.body?.cancel();
      sent++;
      const requestId = served.headers.get("x-request-id") ?? "";
      const found = await eventually(async () => {
        const response = await fetch(`${gateway.url}/admin/requests/${requestId}`, {
          client: one,
        });
        assert.equal(response.headers.get("x-switchyard-worker"), "1");
        assert.equal(response.status, 200);
        return await response.json();
      }, 5000);
      assert.equal(found.request_id, requestId);
      assert.equal(found.instance, `m@${b.url}/v1/chat/completions`);

      const after = await fromBothWorkers(gateway.url, 3);
      sent += after.length;
      assert.deepEqual(new Set(after.map((answer) => answer.backend)), new Set(["b"]));

      // A config change through the admin API is served by both at once.
      const added = await adminCall(gateway.url, "POST", "/admin/services/chat/instances", {
        ifMatch: "*",
        body: { name: "m2", "base-url": b.url },
      });
      assert.equal(added.status, 201, JSON.stringify(added.body));
      const second = await fromBothWorkers(gateway.url, 2, "m2");
      sent += second.length;
      assert.ok(second.every((answer) => answer.status === 200 && answer.backend === "b"));

      // Any worker's /metrics counts every worker's requests.
      // A request's metrics are in once its answer has ended, just after the client has it.
      const scraped = new Set<string | null>();
      await eventually(async () => {
        while (scraped.size < 2) {
          const response = await fresh(`${gateway.url}/metrics`);
          const worker = response.headers.get("x-switchyard-worker");
          const total = new Scrape(await response.text()).sum("switchyard_requests_total");
          assert.equal(total, sent, `worker ${worker}`);
          scraped.add(worker);
        }
      }, 5000);

      gateway.process.kill("SIGTERM");
      const result = await gateway.exited();
      assert.equal(result.code, 0, result.stderr);
      const lines = result.stdout.trim().split("\n").map((line) => JSON.parse(line));
      const listening = lines.filter((line) => /^Switchyard .* listening on/.test(line.msg));
      assert.deepEqual(listening.map((line) => line.worker).sort(), [1, 2]);
      const stopped = lines.filter((line) => /Switchyard stopped/.test(line.msg));
      assert.equal(stopped.length, 2, result.stdout);
    });
  } finally {
    await Deno.remove(store).catch(() => {});
  }
});

Deno.test("--workers 2: breaker and statistics resets through one worker hold in both", async () => {
  await using a = await startFakeBackend({ name: "a", failStatus: 500 });
  const store = await Deno.makeTempFile({ suffix: ".kv" });
  const config = JSON.stringify({
    server: { retries: 0 },
    model: {
      "outlier-detection": { enabled: false },
      "circuit-breaker": { failureThreshold: 1, timeout: 600_000 },
      services: { chat: { instances: [{ name: "m", "base-url": a.url }] } },
    },
  });
  try {
    await withTempConfig(config, async (path) => {
      await using gateway = await spawnGateway(["--config", path, "--kv", store, "--workers", "2"]);
      await gateway.waitForOutput("2 workers");
      // Each worker's breaker opens at its first failure: after it, the worker answers 503.
      const failed = await fromBothWorkers(gateway.url, 2);
      assert.ok(failed.some((answer) => answer.status === 503));
      a.failWith(undefined);
      const reset = await fresh(`${gateway.url}/admin/breakers/reset`, { method: "POST" });
      assert.equal(reset.status, 200);
      assert.deepEqual(await reset.json(), { reset: 1 });
      const healed = await fromBothWorkers(gateway.url, 2);
      assert.deepEqual(new Set(healed.map((answer) => answer.status)), new Set([200]));

      const statistics = await fresh(`${gateway.url}/v1/stats/reset`, { method: "POST" });
      assert.equal(statistics.status, 200);
      const seen = new Set<string | null>();
      while (seen.size < 2) {
        const stats = await fresh(`${gateway.url}/v1/stats`);
        seen.add(stats.headers.get("x-switchyard-worker"));
        assert.equal((await stats.json()).totals.requests, 0);
      }
    });
  } finally {
    await Deno.remove(store).catch(() => {});
  }
});

Deno.test("--workers above 1 refuses a store of its own per worker", async () => {
  const result = await runCli(["--workers", "2", "--kv", ":memory:"]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /--workers 2 needs a store the workers share/);
});

Deno.test("--workers 2 with the port taken exits 1 with the usual line", async () => {
  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const store = await Deno.makeTempFile({ suffix: ".kv" });
  try {
    const result = await runCli([
      "--workers",
      "2",
      "--host",
      "127.0.0.1",
      "--port",
      String(taken.addr.port),
      "--kv",
      store,
    ]);
    assert.equal(result.code, 1);
    assert.match(result.stdout + result.stderr, /the port is already in use/);
  } finally {
    await Deno.remove(store).catch(() => {});
  }
});

Deno.test("--workers 2 with a bad config exits 1 with the message one worker gives", async () => {
  const store = await Deno.makeTempFile({ suffix: ".kv" });
  try {
    await withTempConfig("server:\n  port: eighty\n", async (path) => {
      const one = await runCli(["--config", path, "--kv", store]);
      const two = await runCli(["--config", path, "--kv", store, "--workers", "2"]);
      assert.equal(one.code, 1);
      assert.equal(two.code, 1);
      assert.match(two.stderr, /server\.port \(line 2\)/);
      assert.equal(two.stderr, one.stderr);
    });
  } finally {
    await Deno.remove(store).catch(() => {});
  }
});

Deno.test("--workers 2: a key's use is counted once, and what the workers held is stored at stop", async () => {
  await using a = await startFakeBackend({ name: "a" });
  const store = await Deno.makeTempFile({ suffix: ".kv" });
  const key = "sk-alice-workers-0001";
  const config = JSON.stringify({
    auth: { enabled: true, keys: [{ id: "alice", key }] },
    model: { services: { chat: { instances: [{ name: "m", "base-url": a.url }] } } },
  });
  const aliceRequests = async (url: string) => {
    const report = await adminCall<{ usage: { key: string | null; requests: number }[] }>(
      url,
      "GET",
      "/admin/usage?key=alice",
    );
    assert.equal(report.status, 200);
    return report.body.usage.reduce((sum, row) => sum + row.requests, 0);
  };
  try {
    await withTempConfig(config, async (path) => {
      let sent: number;
      {
        await using gateway = await spawnGateway([
          "--config",
          path,
          "--kv",
          store,
          "--workers",
          "2",
        ]);
        await gateway.waitForOutput("2 workers");
        const answers = await fromBothWorkers(gateway.url, 3, "m", key);
        assert.ok(answers.every((answer) => answer.status === 200));
        sent = answers.length;
        // Stopped at once: each worker stores what it has not yet as it stops.
        gateway.process.kill("SIGTERM");
        assert.equal((await gateway.exited()).code, 0);
      }
      await using after = await spawnGateway(["--config", path, "--kv", store]);
      assert.equal(await aliceRequests(after.url), sent);
    });
  } finally {
    await Deno.remove(store).catch(() => {});
  }
});

Deno.test("--workers 2: a key's rate limit is one limit for both workers", async () => {
  await using a = await startFakeBackend({ name: "a" });
  const store = await Deno.makeTempFile({ suffix: ".kv" });
  const key = "sk-bob-workers-00001";
  const config = JSON.stringify({
    server: { "limits-sync-interval": 20 },
    auth: {
      enabled: true,
      keys: [{ id: "bob", key, "rate-limit": { capacity: 4, rate: 0.001 } }],
    },
    model: { services: { chat: { instances: [{ name: "m", "base-url": a.url }] } } },
  });
  /** When worker `client` last synced its limits' counts, in ms since the epoch. */
  const lastSync = async (url: string, client: Deno.HttpClient) => {
    const response = await fetch(`${url}/status.json`, {
      client,
      headers: { authorization: `Bearer ${key}` },
    });
    const status = await response.json();
    return Date.parse(status.sharedLimits?.lastSync ?? "") || 0;
  };
  const chatOn = async (url: string, client: Deno.HttpClient) => {
    const response = await fetch(`${url}/v1/chat/completions`, {
      client,
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
      body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "Hi" }] }),
    });
    await response.body?.cancel();
    return response.status;
  };
  try {
    await withTempConfig(config, async (path) => {
      await using gateway = await spawnGateway(["--config", path, "--kv", store, "--workers", "2"]);
      await gateway.waitForOutput("2 workers");
      using one = await pinnedTo(gateway.url, "1");
      using two = await pinnedTo(gateway.url, "2");
      for (let i = 0; i < 4; i++) assert.equal(await chatOn(gateway.url, one), 200);
      const used = Date.now();
      await eventually(async () => assert.ok(await lastSync(gateway.url, one) > used), 5000);
      // Worker 2 meets bob for the first time: it may admit this one before it has read bob's
      // use from the store (the documented overrun of a key a gateway has not served)…
      await chatOn(gateway.url, two);
      const met = Date.now();
      await eventually(async () => assert.ok(await lastSync(gateway.url, two) > met), 5000);
      // …and once it has synced, bob's four requests through worker 1 count: it refuses.
      assert.equal(await chatOn(gateway.url, two), 429);
    });
  } finally {
    await Deno.remove(store).catch(() => {});
  }
});

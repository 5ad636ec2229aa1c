/**
 * A restart does not hand clients a fresh quota: the state of request limiters and token
 * budgets is saved to the KV store while the gateway runs and when it closes, and read back
 * when a gateway starts.
 */
import assert from "node:assert/strict";
import { manualClock, manualSchedule } from "./fixtures/clock.ts";
import { startFakeBackend } from "./fixtures/fake_backend.ts";
import { perClientLimit, spawnGateway, startGateway } from "./fixtures/gateway.ts";
import { chatStatusCode } from "./fixtures/requests.ts";

/** Two requests per client, saved every 5 s. */
function limitedConfig(backendUrl: string): string {
  return perClientLimit(backendUrl, {
    capacity: 2,
    server: "server:\n  limits-save-interval: 5000\n",
  });
}

Deno.test("a gateway closed saves its limiters, and one started on the store restores them", async () => {
  await using backend = await startFakeBackend();
  using kv = await Deno.openKv(":memory:");
  const clock = manualClock();
  {
    await using first = await startGateway(limitedConfig(backend.url), { kv, now: clock.now });
    assert.equal(await chatStatusCode(first.url), 200);
    assert.equal(await chatStatusCode(first.url), 200);
    assert.equal(await chatStatusCode(first.url), 429);
  }
  const logged: string[] = [];
  await using second = await startGateway(limitedConfig(backend.url), {
    kv,
    now: clock.now,
    log: (line) => logged.push(line),
  });
  assert.ok(logged.includes("Restored 1 rate limiters saved before the restart"), `${logged}`);
  assert.equal(await chatStatusCode(second.url), 429, "the budget spent before stays spent");
  assert.equal(backend.requests.length, 2);
});

Deno.test("a running gateway saves its limiters every limits-save-interval", async () => {
  await using backend = await startFakeBackend();
  using kv = await Deno.openKv(":memory:");
  const clock = manualClock();
  const timers = manualSchedule();
  await using first = await startGateway(limitedConfig(backend.url), {
    kv,
    now: clock.now,
    schedule: timers.schedule,
  });
  assert.deepEqual(timers.waiting(), [5_000], "the first save waits one interval");
  assert.equal(await chatStatusCode(first.url), 200);
  assert.equal(await chatStatusCode(first.url), 200);

  const saved = timers.nextScheduled();
  timers.fireAll();
  await saved;
  assert.deepEqual(timers.waiting(), [5_000], "and the next one another");

  // The first gateway still runs: what the second finds, the timer saved.
  await using second = await startGateway(limitedConfig(backend.url), { kv, now: clock.now });
  assert.equal(await chatStatusCode(second.url), 429);
  assert.equal(backend.requests.length, 2);
});

Deno.test("a gateway restarted on the same KV file keeps every client's spent budget", async () => {
  await using backend = await startFakeBackend();
  const dir = await Deno.makeTempDir();
  try {
    const config = `${dir}/config.yaml`;
    await Deno.writeTextFile(config, limitedConfig(backend.url));
    const args = ["--config", config, "--kv", `${dir}/state.kv`];
    {
      await using first = await spawnGateway(args);
      assert.equal(await chatStatusCode(first.url), 200);
      assert.equal(await chatStatusCode(first.url), 200);
      assert.equal(await chatStatusCode(first.url), 429);
      first.process.kill("SIGTERM");
      assert.equal((await first.exited()).code, 0);
    }
    await using second = await spawnGateway(args);
    assert.equal(
      await chatStatusCode(second.url),
      429,
      "the budget spent before the restart stays spent",
    );
    assert.equal(backend.requests.length, 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a gateway restarted on the store keeps the tokens a client spent of its token limit", async () => {
  await using backend = await startFakeBackend();
  using kv = await Deno.openKv(":memory:");
  const clock = manualClock();
  const config = `model:
  services:
    chat:
      rate-limit:
        tokens-per-minute: 1000
        scope: service
      instances:
        - name: m
          base-url: ${backend.url}
`;
  const body = JSON.stringify({ model: "m", messages: [], max_tokens: 10 });
  const remaining = async (url: string) => {
    const response = await fetch(`${url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    await response.body?.cancel();
    assert.equal(response.status, 200);
    return Number(response.headers.get("x-ratelimit-remaining-tokens"));
  };
  // The estimate (the body's bytes ÷ 4, plus max_tokens) is taken when the request is let
  // through; the backend's count (6 tokens) settles it once the answer ended.
  const estimate = Math.ceil(new TextEncoder().encode(body).byteLength / 4) + 10;
  {
    await using first = await startGateway(config, { kv, now: clock.now });
    assert.equal(await remaining(first.url), 1000 - estimate);
  }
  await using second = await startGateway(config, { kv, now: clock.now });
  assert.equal(await remaining(second.url), 1000 - 6 - estimate, "the first answer's 6 stay spent");
});

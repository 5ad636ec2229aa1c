/**
 * Gateways sharing a store hold their limits together: real processes, sharing one KV file or
 * one Redis, each deciding alone and syncing its counts every few ms.
 */
import assert from "node:assert/strict";
import { startFakeBackend } from "./fixtures/fake_backend.ts";
import { type GatewayProcess, spawnGateway } from "./fixtures/gateway.ts";
import { redisTest } from "./fixtures/redis.ts";
import { chatStatusCode, postChat } from "./fixtures/requests.ts";

/** ms between syncs: short, so that a test waits little for the gateways to see each other. */
const SYNC_INTERVAL = 20;

/** A per-key limit of `capacity` requests that refills only after a long while. */
function perKeyLimit(backendUrl: string, capacity: number): string {
  return `server:
  limits-sync-interval: ${SYNC_INTERVAL}
model:
  rate-limit: { capacity: ${capacity}, rate: 0.001, scope: api-key }
  services:
    chat:
      instances:
        - name: m
          base-url: ${backendUrl}
`;
}

/** A key with a daily budget of `requests`. */
function budgeted(backendUrl: string, requests: number): string {
  return `server:
  limits-sync-interval: ${SYNC_INTERVAL}
auth:
  enabled: true
  keys:
    - id: alice
      key: sk-alice
      budget: { requests-per-day: ${requests} }
model:
  services:
    chat:
      instances:
        - name: m
          base-url: ${backendUrl}
`;
}

/** A global limit of 60 tokens a minute: the fake backend's answers count 6 each. */
function tokenLimit(backendUrl: string): string {
  return `server:
  limits-sync-interval: ${SYNC_INTERVAL}
model:
  rate-limit: { tokens-per-minute: 60, scope: global }
  services:
    chat:
      instances:
        - name: m
          base-url: ${backendUrl}
`;
}

const ALICE = { headers: { authorization: "Bearer sk-alice" } };

interface Shared {
  readonly syncs: number;
  readonly failing: boolean;
}

async function sharedLimits(gateway: GatewayProcess): Promise<Shared> {
  const response = await fetch(`${gateway.url}/status.json`);
  const body = await response.json() as { sharedLimits: Shared | null };
  assert.ok(body.sharedLimits, "the limits are shared");
  return body.sharedLimits;
}

/**
 * Waits until every gateway has seen everything every other one counted before the call: each
 * has finished a sync after (and so added its use), then each has finished one more that began
 * after all those (and so read everyone's).
 */
async function allSynced(gateways: readonly GatewayProcess[]): Promise<void> {
  for (let round = 0; round < 2; round++) {
    const before = await Promise.all(gateways.map(sharedLimits));
    await Promise.all(gateways.map(async (gateway, index) => {
      while ((await sharedLimits(gateway)).syncs < before[index]!.syncs + 2) {
        await new Promise((resolve) => setTimeout(resolve, SYNC_INTERVAL / 2));
      }
    }));
  }
}

/** Starts `count` gateways on one config and the same store arguments. */
async function gateways(
  count: number,
  config: string,
  storeArgs: readonly string[],
): Promise<GatewayProcess[]> {
  const path = await Deno.makeTempFile({ suffix: ".yaml" });
  await Deno.writeTextFile(path, config);
  // One after another: processes that open a new KV file at the same moment may find it locked.
  const started: GatewayProcess[] = [];
  for (let i = 0; i < count; i++) {
    started.push(await spawnGateway(["--config", path, ...storeArgs]));
  }
  return started;
}

async function closeAll(started: readonly GatewayProcess[]): Promise<void> {
  await Promise.all(started.map((gateway) => gateway.close()));
}

/** Sends `count` requests to each gateway in turn; returns how many were admitted. */
async function sendEach(
  started: readonly GatewayProcess[],
  count: number,
  init = {},
): Promise<number> {
  let admitted = 0;
  for (const gateway of started) {
    for (let i = 0; i < count; i++) {
      if (await chatStatusCode(gateway.url, init) === 200) admitted++;
    }
  }
  return admitted;
}

async function perKeyLimitHolds(storeArgs: readonly string[]): Promise<void> {
  await using backend = await startFakeBackend();
  const started = await gateways(3, perKeyLimit(backend.url, 30), storeArgs);
  try {
    // Each gateway alone would let 30 through.
    assert.equal(await sendEach(started, 10, ALICE), 30);
    await allSynced(started);
    assert.equal(await sendEach(started, 1, ALICE), 0, "the key's 30 are used up everywhere");
    assert.equal(await sendEach(started, 1), 3, "another key has its own limit");
    assert.equal(backend.requests.length, 33);
  } finally {
    await closeAll(started);
  }
}

async function withKvFile(use: (args: string[]) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await use(["--kv", `${dir}/shared.kv`]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("three gateways sharing a KV file hold one per-key limit together", async () => {
  await withKvFile(perKeyLimitHolds);
});

redisTest("three gateways sharing a Redis hold one per-key limit together", async (redis) => {
  await perKeyLimitHolds(["--kv", ":memory:", "--redis", redis.url]);
});

Deno.test("two gateways sharing a KV file hold one token limit together", async () => {
  await using backend = await startFakeBackend();
  await withKvFile(async (storeArgs) => {
    const started = await gateways(2, tokenLimit(backend.url), storeArgs);
    try {
      const [firstGateway, second] = started as [GatewayProcess, GatewayProcess];
      // Each reserves 21 tokens (its body's 72 bytes ÷ 4, and max_tokens) and settles at 6.
      const ask = async (gateway: GatewayProcess) => {
        const response = await postChat(gateway.url, { max_tokens: 3 });
        await response.body?.cancel();
        return response.status;
      };
      // Each gateway serves the key (here the global one) first, so that it follows the others'
      // use of it: one meeting a key afresh learns of that use at its next sync.
      assert.equal(await ask(firstGateway), 200);
      assert.equal(await ask(second), 200);
      await allSynced(started);
      let first = 0;
      while (await ask(firstGateway) === 200) first++;
      assert.equal(first, 5, "12 of the 60 were used: 48, 42… 24 have room for 21");
      await allSynced(started);
      // 42 of the 60 are used, and the 18 left are too few for a reservation until the bucket
      // has refilled by 3 (at a token a second). Alone, the second gateway would let 6 more in.
      let admitted = 0;
      while (await ask(second) === 200) admitted++;
      assert.ok(admitted <= 1, `${admitted} admitted`);
    } finally {
      await closeAll(started);
    }
  });
});

Deno.test("a budget spent across gateways holds, and a gateway stopped keeps its use counted", async () => {
  await using backend = await startFakeBackend();
  await withKvFile(async (storeArgs) => {
    const started = await gateways(3, budgeted(backend.url, 20), storeArgs);
    try {
      assert.equal(await sendEach(started, 6, ALICE), 18);
      // The third stops at once (SIGTERM): it stores its use on the way out.
      const [first, second, third] = started as [GatewayProcess, GatewayProcess, GatewayProcess];
      third.process.kill("SIGTERM");
      assert.equal((await third.exited()).code, 0);

      // The report adds the gateway's own use to the store, then reads the store.
      const usage = async (gateway: GatewayProcess) => {
        const response = await fetch(`${gateway.url}/admin/usage?key=alice`);
        const { usage } = await response.json() as { usage: { requests: number }[] };
        return usage.reduce((sum, row) => sum + row.requests, 0);
      };
      await usage(first);
      assert.equal(await usage(second), 18, "the stopped gateway's 6 are in the store");
      assert.equal(await usage(first), 18);
      assert.equal(await chatStatusCode(first.url, ALICE), 200);
      assert.equal(await chatStatusCode(first.url, ALICE), 200);
      assert.equal(await chatStatusCode(first.url, ALICE), 429, "20 used");
      assert.equal(await usage(first), 20);
      assert.equal(await usage(second), 20);
      assert.equal(await chatStatusCode(second.url, ALICE), 429, "20 used, 6 of them elsewhere");
      assert.equal(backend.requests.length, 20);
    } finally {
      await closeAll(started);
    }
  });
});

Deno.test("a gateway killed outright loses none of the use it had synced", async () => {
  await using backend = await startFakeBackend();
  await withKvFile(async (storeArgs) => {
    const started = await gateways(2, perKeyLimit(backend.url, 10), storeArgs);
    try {
      const [survivor, killed] = started as [GatewayProcess, GatewayProcess];
      assert.equal(await sendEach([survivor], 1, ALICE), 1);
      assert.equal(await sendEach([killed], 7, ALICE), 7);
      await allSynced(started);
      killed.process.kill("SIGKILL");
      await killed.exited();
      assert.equal(await sendEach([survivor], 10, ALICE), 2, "10 − 1 here − 7 there");
    } finally {
      await closeAll(started);
    }
  });
});

redisTest(
  "a Redis that goes away leaves the limits local, and the status says so",
  async (redis) => {
    await using backend = await startFakeBackend();
    const started = await gateways(1, perKeyLimit(backend.url, 3), ["--redis", redis.url]);
    try {
      const [gateway] = started as [GatewayProcess];
      await allSynced(started);
      await redis.close();
      await gateway.waitForOutput("Cannot sync the limits' counts with the redis store");
      assert.equal((await sharedLimits(gateway)).failing, true);
      const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
      assert.match(metrics, /^switchyard_limits_sync_failing 1$/m);
      // Traffic goes on, under the gateway's own count.
      assert.equal(await sendEach(started, 4, ALICE), 3);
    } finally {
      await closeAll(started);
    }
  },
);

Deno.test("a gateway restarted on its KV file counts the tokens used before the restart once", async () => {
  await using backend = await startFakeBackend();
  await withKvFile(async (storeArgs) => {
    // Each request reserves 21 tokens (its body's 72 bytes ÷ 4, and max_tokens) and settles at 6.
    const ask = async (gateway: GatewayProcess) => {
      const response = await postChat(gateway.url, { max_tokens: 3 });
      await response.body?.cancel();
      return {
        status: response.status,
        left: response.headers.get("x-ratelimit-remaining-tokens"),
      };
    };
    const [before] = await gateways(1, tokenLimit(backend.url), storeArgs) as [GatewayProcess];
    const used = performance.now();
    for (let i = 0; i < 5; i++) assert.equal((await ask(before)).status, 200);
    before.process.kill("SIGTERM");
    assert.equal((await before.exited()).code, 0);

    const [after] = await gateways(1, tokenLimit(backend.url), storeArgs) as [GatewayProcess];
    try {
      // The first request meets the limit afresh; the next sync charges the use before the restart.
      assert.equal((await ask(after)).status, 200);
      await allSynced([after]);
      const last = await ask(after);
      // 30 used before the restart and 6 since: 24 left, and a token a second refilled. Counted
      // twice, the 30 would leave too few for the 21 this one reserves.
      assert.equal(last.status, 200, "the use before the restart is counted once");
      const refilled = Math.ceil((performance.now() - used) / 1000);
      assert.ok(Number(last.left) <= 60 - 30 - 6 - 21 + refilled, `${last.left} tokens left`);
    } finally {
      await closeAll([after]);
    }
  });
});

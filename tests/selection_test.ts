/**
 * Load-balancing strategies spread real requests across two fake backends.
 */
import assert from "node:assert/strict";
import OpenAI from "openai";
import { startFakeBackend } from "./fixtures/fake_backend.ts";
import { Gate } from "./fixtures/gate.ts";
import { oneService, startGateway } from "./fixtures/gateway.ts";

Deno.test("round-robin with weights 2:1 sends 20 of 30 requests to the heavier backend", async () => {
  await using heavy = await startFakeBackend({ name: "heavy" });
  await using light = await startFakeBackend({ name: "light" });
  await using gateway = await startGateway(
    oneService("chat", [{ url: heavy.url, weight: 2 }, { url: light.url, weight: 1 }], {
      strategy: "round-robin",
    }),
  );
  const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: "sk-test", maxRetries: 0 });
  const answeredBy: string[] = [];
  for (let i = 0; i < 30; i++) {
    const completion = await client.chat.completions.create({ model: "m", messages: [] });
    answeredBy.push(completion.choices[0]!.message.content!);
  }
  assert.equal(heavy.requests.length, 20);
  assert.equal(light.requests.length, 10);
  // Smooth: never three in a row on the heavy one.
  assert.ok(!answeredBy.join(",").includes(Array(3).fill("hello from heavy").join(",")));
});

Deno.test("round-robin spreads concurrent requests by weight too", async () => {
  await using heavy = await startFakeBackend({ name: "heavy" });
  await using light = await startFakeBackend({ name: "light" });
  await using gateway = await startGateway(
    oneService("embedding", [{ url: heavy.url, weight: 2 }, light.url], {
      model: "e",
      strategy: "round-robin",
    }),
  );
  await Promise.all(Array.from({ length: 30 }, async () => {
    const response = await fetch(`${gateway.url}/v1/embeddings`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "e", input: "x" }),
    });
    assert.equal(response.status, 200);
    await response.body?.cancel();
  }));
  assert.equal(heavy.requests.length, 20);
  assert.equal(light.requests.length, 10);
});

Deno.test("least-connections sends new requests to the idle backend while one is busy", async () => {
  const gateA = new Gate();
  const gateB = new Gate();
  const a = await startFakeBackend({ name: "a", hold: gateA });
  const b = await startFakeBackend({ name: "b", hold: gateB });
  const gateway = await startGateway(
    oneService("chat", [a.url, b.url], { strategy: "least-connections" }),
  );
  try {
    const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: "sk-test", maxRetries: 0 });
    // Both idle, so either may take the first request; it is then held open there.
    const held = client.chat.completions.create({ model: "m", messages: [] });
    const first = await Promise.race([a.received(1).then(() => a), b.received(1).then(() => b)]);
    const [busy, idle] = first === a ? [a, b] : [b, a];
    (first === a ? gateB : gateA).open();
    for (let i = 0; i < 5; i++) {
      const completion = await client.chat.completions.create({ model: "m", messages: [] });
      assert.equal(completion.choices[0]?.message.content, `hello from ${idle.name}`);
    }
    assert.equal(busy.requests.length, 1);
    assert.equal(idle.requests.length, 5);
    gateA.open();
    gateB.open();
    assert.equal((await held).choices[0]?.message.content, `hello from ${busy.name}`);
  } finally {
    gateA.open();
    gateB.open();
    await gateway.close();
    await a.close();
    await b.close();
  }
});

Deno.test("ip-hash keeps one client on one backend", async () => {
  await using a = await startFakeBackend({ name: "a" });
  await using b = await startFakeBackend({ name: "b" });
  await using gateway = await startGateway(
    oneService("embedding", [a.url, b.url], { model: "e", strategy: "ip-hash" }),
  );
  for (let i = 0; i < 10; i++) {
    const response = await fetch(`${gateway.url}/v1/embeddings`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "e", input: "x" }),
    });
    await response.body?.cancel();
  }
  assert.deepEqual([a.requests.length, b.requests.length].toSorted(), [0, 10]);
});

Deno.test("consistent-hash on a header keeps each key on one backend and spreads keys", async () => {
  await using a = await startFakeBackend({ name: "a" });
  await using b = await startFakeBackend({ name: "b" });
  await using gateway = await startGateway(`
model:
  services:
    chat:
      load-balance:
        type: consistent-hash
        hash-header: X-Session-Id
      instances:
        - name: m
          base-url: ${a.url}
        - name: m
          base-url: ${b.url}
`);
  const backendOf = new Map<string, Set<string>>();
  for (let round = 0; round < 3; round++) {
    for (let key = 0; key < 20; key++) {
      const response = await fetch(`${gateway.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-session-id": `session-${key}` },
        body: JSON.stringify({ model: "m", messages: [] }),
      });
      const { backend } = await response.json();
      const seen = backendOf.get(`session-${key}`) ?? new Set();
      seen.add(backend);
      backendOf.set(`session-${key}`, seen);
    }
  }
  for (const [key, seen] of backendOf) assert.equal(seen.size, 1, `${key} stays on one backend`);
  assert.ok(a.requests.length > 0 && b.requests.length > 0, "keys spread over both backends");
});

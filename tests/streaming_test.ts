/**
 * Streams pass through as they arrive: the client holds each chunk while the backend is still
 * held back from sending the next one; over every way the gateway reaches a backend.
 */
import assert from "node:assert/strict";
import OpenAI from "openai";
import { startFakeBackend } from "./fixtures/fake_backend.ts";
import { eventually, gates } from "./fixtures/gate.ts";
import { oneService, startGateway } from "./fixtures/gateway.ts";
import { BACKEND_ROUTES, type BackendRoute } from "./fixtures/backend_routes.ts";

const TOKENS = ["Hel", "lo", " wor", "ld"];

async function setup(tokens: readonly string[], route: BackendRoute) {
  const held = gates(tokens.length + 1);
  held[0]!.open();
  const routed = route.setUp();
  const backend = await startFakeBackend({
    name: "streamer",
    stream: { tokens, gates: held },
    tls: route.tls,
  });
  const gateway = await startGateway(oneService("chat", [backend.url]), routed.gateway);
  const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: "sk-test", maxRetries: 0 });
  return {
    backend,
    held,
    gateway,
    client,
    async [Symbol.asyncDispose]() {
      await gateway.close();
      await backend.close();
      await routed[Symbol.asyncDispose]();
    },
  };
}

for (const route of BACKEND_ROUTES) {
  Deno.test(`${route.name}: chat stream: each chunk reaches the SDK before the backend sends the next`, async () => {
    await using t = await setup(TOKENS, route);
    const stream = await t.client.chat.completions.create({
      model: "m",
      messages: [{ role: "user", content: "hi" }],
      stream: true,
    });
    const received: string[] = [];
    let index = 0;
    for await (const chunk of stream) {
      received.push(chunk.choices[0]?.delta.content ?? "");
      const request = t.backend.requests[0]!;
      // The next event is still behind its gate: the client cannot have it yet.
      assert.equal(request.chunksSent, index + 1, `backend sent only chunk ${index + 1} so far`);
      assert.equal(t.held[index + 1]!.isOpen, false);
      index++;
      t.held[index]!.open();
    }
    assert.deepEqual(received, TOKENS);
    assert.equal(t.backend.requests[0]!.chunksSent, TOKENS.length + 1, "[DONE] was sent");
    await eventually(async () => {
      const status = await (await fetch(`${t.gateway.url}/v1/chat/status`)).json();
      assert.equal(status.instances[0].activeRequests, 0);
    }, 2000);
  });

  Deno.test(`${route.name}: completions stream through the chat instance is passed through as it arrives`, async () => {
    await using t = await setup(["a", "b"], route);
    const stream = await t.client.completions.create({ model: "m", prompt: "x", stream: true });
    const received: string[] = [];
    let index = 0;
    for await (const chunk of stream) {
      received.push(chunk.choices[0]?.text ?? "");
      assert.equal(t.backend.requests[0]!.chunksSent, index + 1);
      t.held[++index]!.open();
    }
    assert.deepEqual(received, ["a", "b"]);
    assert.equal(t.backend.requests[0]!.path, "/v1/completions");
  });

  Deno.test(`${route.name}: the SSE bytes reach the client unchanged, with the backend's content type`, async () => {
    await using t = await setup(["one", "two"], route);
    for (const gate of t.held) gate.open();
    const response = await fetch(`${t.gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "m", stream: true, messages: [] }),
    });
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type") ?? "", /^text\/event-stream/);
    const text = await response.text();
    const events = text.split("\n\n").filter(Boolean);
    assert.equal(events.length, 3);
    assert.equal(events[2], "data: [DONE]");
    assert.equal(JSON.parse(events[0]!.slice("data: ".length)).choices[0].delta.content, "one");
  });
}

Deno.test("a relayed stream tells a proxy in front not to buffer it, and is not compressed", async () => {
  await using t = await setup(["one", "two"], BACKEND_ROUTES[0]!);
  for (const gate of t.held) gate.open();
  const response = await fetch(`${t.gateway.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", "accept-encoding": "gzip, br" },
    body: JSON.stringify({ model: "m", stream: true, messages: [] }),
  });
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("x-accel-buffering"), "no");
  assert.equal(response.headers.get("content-encoding"), null);
  assert.ok((await response.text()).endsWith("data: [DONE]\n\n"));
});

Deno.test("a whole JSON answer carries no buffering header", async () => {
  await using t = await setup(["one"], BACKEND_ROUTES[0]!);
  for (const gate of t.held) gate.open();
  const response = await fetch(`${t.gateway.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "m", messages: [] }),
  });
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("x-accel-buffering"), null);
  await response.body?.cancel();
});

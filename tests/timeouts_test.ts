/**
 * Time-to-first-byte and idle-between-chunks timeouts, and no total timeout on a live stream.
 */
import assert from "node:assert/strict";
import { startFakeBackend } from "./fixtures/fake_backend.ts";
import { Gate, within } from "./fixtures/gate.ts";
import { oneService, startGateway } from "./fixtures/gateway.ts";
import { postChat } from "./fixtures/requests.ts";

/** Reads a body to its end; returns the text and whether the read failed. */
async function readAll(
  body: ReadableStream<Uint8Array>,
): Promise<{ text: string; failed: boolean }> {
  let text = "";
  try {
    for await (const chunk of body.pipeThrough(new TextDecoderStream())) text += chunk;
    return { text, failed: false };
  } catch {
    return { text, failed: true };
  }
}

Deno.test("a backend slower than the first-byte timeout gets a 504 upstream_timeout", async () => {
  const hold = new Gate();
  const slow = await startFakeBackend({ name: "slow", hold });
  const gateway = await startGateway(oneService("chat", [slow.url], {
    server: `server:
  retries: 0
  timeouts:
    connect: 2000
    first-byte: 50
`,
  }));
  try {
    const response = await postChat(gateway.url);
    assert.equal(response.status, 504);
    const { error } = await response.json();
    assert.equal(error.code, "upstream_timeout");
    assert.equal(error.param, null);
    assert.equal(typeof error.type, "string");
    assert.equal(typeof error.message, "string");
    await within(slow.requests[0]!.aborted, 2000, "the slow backend's request was aborted");
    const status = await (await fetch(`${gateway.url}/v1/chat/status`)).json();
    assert.equal(status.instances[0].activeRequests, 0);
  } finally {
    hold.open();
    await gateway.close();
    await slow.close();
  }
});

Deno.test("after a first-byte timeout the request is retried on another instance", async () => {
  const hold = new Gate();
  const slow = await startFakeBackend({ name: "slow", hold });
  const fast = await startFakeBackend({ name: "fast" });
  const gateway = await startGateway(
    oneService("chat", [slow.url, fast.url], {
      strategy: "round-robin",
      server: `server:
  retries: 1
  timeouts:
    first-byte: 50
`,
    }),
  );
  try {
    const response = await postChat(gateway.url);
    assert.equal(response.status, 200);
    assert.equal((await response.json()).backend, "fast");
    assert.equal(slow.requests.length, 1);
  } finally {
    hold.open();
    await gateway.close();
    await slow.close();
    await fast.close();
  }
});

Deno.test("a stream that stalls longer than the idle timeout is cut", async () => {
  await using stalling = await startFakeBackend({
    name: "stalling",
    stream: { tokens: ["a", "b"], stallAfter: 1 },
  });
  await using gateway = await startGateway(oneService("chat", [stalling.url], {
    server: `server:
  timeouts:
    idle: 50
`,
  }));
  const response = await postChat(gateway.url, { model: "m", stream: true });
  assert.equal(response.status, 200);
  const { text, failed } = await within(readAll(response.body!), 5000, "the stream ended");
  assert.match(text, /"content":"a"/);
  assert.ok(failed || !text.includes("[DONE]"), "the client sees an error or a truncated stream");
  await within(stalling.requests[0]!.aborted, 2000, "the stalled backend's request was aborted");
  const status = await (await fetch(`${gateway.url}/v1/chat/status`)).json();
  assert.equal(status.instances[0].activeRequests, 0);
});

Deno.test("a long stream with regular chunks outlives the idle and first-byte timeouts", async () => {
  const tokens = Array.from({ length: 30 }, (_, i) => `t${i}`);
  await using steady = await startFakeBackend({
    name: "steady",
    stream: { tokens, intervalMs: 10 },
  });
  await using gateway = await startGateway(oneService("chat", [steady.url], {
    server: `server:
  timeouts:
    first-byte: 150
    idle: 150
`,
  }));
  const started = performance.now();
  const response = await postChat(gateway.url, { model: "m", stream: true });
  assert.equal(response.status, 200);
  const { text, failed } = await readAll(response.body!);
  assert.equal(failed, false);
  assert.ok(text.endsWith("data: [DONE]\n\n"));
  for (const token of tokens) assert.ok(text.includes(`"content":"${token}"`), token);
  // The stream really lasted longer than both timeouts.
  assert.ok(performance.now() - started > 150 * 1.5);
});

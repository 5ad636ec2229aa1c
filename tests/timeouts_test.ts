/**
 * Connect, time-to-first-byte and idle-between-chunks timeouts, each the same `504
 * upstream_timeout` on every route to a backend, and no total timeout on a live stream.
 */
import assert from "node:assert/strict";
import { startFakeBackend } from "./fixtures/fake_backend.ts";
import { Gate, within } from "./fixtures/gate.ts";
import { oneService, startGateway } from "./fixtures/gateway.ts";
import { postChat } from "./fixtures/requests.ts";
import { startScriptedServer } from "./fixtures/raw_http.ts";
import { BACKEND_ROUTES, gatewayOverRoute } from "./fixtures/backend_routes.ts";

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

for (const route of BACKEND_ROUTES) {
  Deno.test(`${route.name}: a backend slower than the first-byte timeout gets a 504 upstream_timeout`, async () => {
    const hold = new Gate();
    const slow = await startFakeBackend({ name: "slow", hold, tls: route.tls });
    const gateway = await gatewayOverRoute(
      route,
      oneService("chat", [slow.url], {
        server: `server:
  retries: 0
  timeouts:
    connect: 2000
    first-byte: 50
`,
      }),
    );
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

  Deno.test(`${route.name}: after a first-byte timeout the request is retried on another instance`, async () => {
    const hold = new Gate();
    const slow = await startFakeBackend({ name: "slow", hold, tls: route.tls });
    const fast = await startFakeBackend({ name: "fast", tls: route.tls });
    const gateway = await gatewayOverRoute(
      route,
      oneService("chat", [slow.url, fast.url], {
        strategy: "round-robin",
        // Long enough for the fast instance to answer through a proxy on a busy machine: the
        // slow one is held until the end, so the timeout fires whatever its length.
        server: `server:
  retries: 1
  timeouts:
    first-byte: 500
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

  Deno.test(`${route.name}: a stream that stalls longer than the idle timeout is cut`, async () => {
    await using stalling = await startFakeBackend({
      name: "stalling",
      stream: { tokens: ["a", "b"], stallAfter: 1 },
      tls: route.tls,
    });
    await using gateway = await gatewayOverRoute(
      route,
      oneService("chat", [stalling.url], {
        server: `server:
  timeouts:
    idle: 50
`,
      }),
    );
    const response = await postChat(gateway.url, { model: "m", stream: true });
    assert.equal(response.status, 200);
    const { text, failed } = await within(readAll(response.body!), 5000, "the stream ended");
    assert.match(text, /"content":"a"/);
    assert.ok(failed || !text.includes("[DONE]"), "the client sees an error or a truncated stream");
    await within(stalling.requests[0]!.aborted, 2000, "the stalled backend's request was aborted");
    const status = await (await fetch(`${gateway.url}/v1/chat/status`)).json();
    assert.equal(status.instances[0].activeRequests, 0);
  });

  Deno.test(`${route.name}: a backend that accepts and says nothing is a 504 upstream_timeout, retried elsewhere`, async () => {
    // Over TLS the handshake never ends (the connect timeout); over plain HTTP the request is
    // sent and never answered (the first-byte timeout).
    const hold = new Gate();
    await using silent = startScriptedServer(() => hold.wait(), { tls: route.tls });
    await using fast = await startFakeBackend({ name: "fast", tls: route.tls });
    const server = `server:
  retries: RETRIES
  timeouts:
    connect: 50
    first-byte: 50
`;
    try {
      {
        await using gateway = await gatewayOverRoute(
          route,
          oneService("chat", [silent.url], { server: server.replace("RETRIES", "0") }),
        );
        const response = await postChat(gateway.url);
        assert.equal(response.status, 504);
        assert.equal((await response.json()).error.code, "upstream_timeout");
      }
      await using gateway = await gatewayOverRoute(
        route,
        oneService("chat", [silent.url, fast.url], {
          strategy: "round-robin",
          server: server.replace("RETRIES", "1"),
        }),
      );
      const response = await postChat(gateway.url);
      assert.equal(response.status, 200);
      assert.equal((await response.json()).backend, "fast");
      assert.equal(silent.connections, 2, "each gateway tried the silent backend once");
    } finally {
      hold.open();
    }
  });

  if (route.proxied) {
    Deno.test(`${route.name}: a proxy that timed out reaching the backend is a 504 upstream_timeout`, async () => {
      await using backend = await startFakeBackend({ tls: route.tls });
      await using gateway = await gatewayOverRoute(
        route,
        oneService("chat", [backend.url], { server: "server:\n  retries: 0\n" }),
        { proxy: { failure: { status: 504, error: "connection_timeout" } } },
      );
      const response = await postChat(gateway.url);
      assert.equal(response.status, 504);
      const { error } = await response.json();
      assert.equal(error.code, "upstream_timeout");
      assert.match(error.message, /connection_timeout/);
      assert.equal(backend.requests.length, 0);
    });

    Deno.test(`${route.name}: a proxy that could not reach the backend is a 502 upstream_unreachable`, async () => {
      await using backend = await startFakeBackend({ tls: route.tls });
      await using gateway = await gatewayOverRoute(
        route,
        oneService("chat", [backend.url], { server: "server:\n  retries: 0\n" }),
        { proxy: { failure: { status: 502, error: "destination_unavailable" } } },
      );
      const response = await postChat(gateway.url);
      assert.equal(response.status, 502);
      const { error } = await response.json();
      assert.equal(error.code, "upstream_unreachable");
      assert.match(error.message, /destination_unavailable/);
    });
  }
}

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

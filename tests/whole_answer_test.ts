/**
 * A small JSON answer is read whole before it is passed on: a backend that breaks off or stalls
 * midway is a failure another instance can repair, never half an answer for the client.
 */
import assert from "node:assert/strict";
import { startFakeBackend } from "./fixtures/fake_backend.ts";
import { oneService, startGateway } from "./fixtures/gateway.ts";
import { startRawServer } from "./fixtures/raw_http.ts";
import { closedAtScopeEnd } from "./fixtures/disposable.ts";

const CUT_OFF = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 200\r\n" +
  'connection: close\r\n\r\n{"id":"chatcmpl-cut","choices":[';

function chat(url: string): Promise<Response> {
  return fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "hi" }] }),
  });
}

Deno.test("an answer cut off midway is retried on another instance", async () => {
  await using broken = startRawServer(CUT_OFF);
  await using good = await startFakeBackend({ name: "good" });
  await using gateway = await startGateway(
    oneService("chat", [broken.url, good.url], { strategy: "round-robin" }),
  );
  const response = await chat(gateway.url);
  assert.equal(response.status, 200);
  assert.equal((await response.json()).backend, "good");
  assert.equal(broken.heads.length, 1, "the broken instance was tried first");
  const status = await (await fetch(`${gateway.url}/v1/chat/status`)).json();
  assert.equal(status.instances[0].failures, 1);
  assert.match(status.instances[0].lastError.message, /broke off its answer/);
});

Deno.test("an answer cut off with no other instance is a 502 upstream_broken_answer", async () => {
  await using broken = startRawServer(CUT_OFF);
  await using gateway = await startGateway(oneService("chat", [broken.url]));
  const response = await chat(gateway.url);
  assert.equal(response.status, 502);
  assert.equal((await response.json()).error.code, "upstream_broken_answer");
});

Deno.test("an answer that stops arriving midway is a 504 after the idle timeout", async () => {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    await request.body?.cancel();
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"id":"chatcmpl-stalled",'));
      },
    });
    return new Response(body, {
      headers: { "content-type": "application/json", "content-length": "100" },
    });
  });
  await using _stalled = closedAtScopeEnd({
    close: () => server.shutdown(),
  });
  const url = `http://127.0.0.1:${(server.addr as Deno.NetAddr).port}`;
  await using gateway = await startGateway(oneService("chat", [url], {
    server: "server:\n  retries: 0\n  timeouts:\n    idle: 50\n",
  }));
  const response = await chat(gateway.url);
  assert.equal(response.status, 504);
  const error = (await response.json()).error;
  assert.equal(error.code, "upstream_timeout");
  assert.match(error.message, /idle/);
});

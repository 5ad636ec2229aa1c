/**
 * A streamed answer is committed to only once its first SSE event is in: a stream that opens
 * with an error event, or that sends no event within `first-token`, is a failed attempt,
 * retried on another instance while nothing has reached the client.
 */
import assert from "node:assert/strict";
import OpenAI from "openai";
import { Logger } from "../src/logging/logger.ts";
import { startFakeBackend } from "./fixtures/fake_backend.ts";
import { oneService, startGateway } from "./fixtures/gateway.ts";
import { LogLines } from "./fixtures/log_lines.ts";
import { type RawServer, startScriptedServer } from "./fixtures/raw_http.ts";
import { postChat, serviceStatus } from "./fixtures/requests.ts";

const encoder = new TextEncoder();

/** One chunk of a chunked HTTP/1.1 body. */
function chunk(text: string): string {
  return `${encoder.encode(text).byteLength.toString(16)}\r\n${text}\r\n`;
}

const SSE_HEAD = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n" +
  "transfer-encoding: chunked\r\n\r\n";

/**
 * A backend that answers each request with a 200 SSE head and then `events` (each its own
 * chunk), and then sends nothing more until the gateway goes away.
 */
function sseBackend(events: readonly string[], options: { end?: boolean } = {}): RawServer {
  return startScriptedServer(async (peer) => {
    await peer.readRequest();
    await peer.write(SSE_HEAD);
    for (const event of events) await peer.write(chunk(event));
    if (options.end) {
      await peer.write("0\r\n\r\n");
      return;
    }
    // Waits for a request that never comes: the script ends when the gateway closes.
    await peer.readRequest();
  });
}

const OVERLOADED = 'data: {"error":{"message":"Engine overloaded","type":"server_error",' +
  '"param":null,"code":503}}\n\n';

const TIMEOUTS = (timeouts: string, retries = 1) =>
  `server:\n  retries: ${retries}\n  timeouts:\n${timeouts}`;

/** `switchyard_backend_calls_total` summed over instances, by status. */
async function backendCalls(url: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const calls: Record<string, number> = {};
  for (
    const [, status, count] of text.matchAll(
      /^switchyard_backend_calls_total\{.*status="([^"]+)".*\} (\d+)$/gm,
    )
  ) {
    calls[status!] = (calls[status!] ?? 0) + Number(count);
  }
  return calls;
}

function sdk(url: string): OpenAI {
  return new OpenAI({ baseURL: `${url}/v1`, apiKey: "sk-test", maxRetries: 0 });
}

async function streamedText(client: OpenAI): Promise<string> {
  const stream = await client.chat.completions.create({
    model: "m",
    messages: [{ role: "user", content: "hi" }],
    stream: true,
  });
  let text = "";
  for await (const part of stream) text += part.choices[0]?.delta.content ?? "";
  return text;
}

Deno.test("a stream that opens with an error event is retried on a healthy instance", async () => {
  await using overloaded = sseBackend([OVERLOADED], { end: true });
  await using healthy = await startFakeBackend({ name: "healthy" });
  await using gateway = await startGateway(
    oneService("chat", [overloaded.url, healthy.url], {
      strategy: "round-robin",
      server: TIMEOUTS("    idle: 5000\n"),
    }),
  );
  assert.equal(await streamedText(sdk(gateway.url)), "Hello!");
  assert.equal(overloaded.heads.length, 1, "the overloaded instance was tried first");
  assert.equal(healthy.requests.length, 1);
  const status = await serviceStatus(gateway.url);
  assert.deepEqual(status.instances.map((instance) => instance.failures), [1, 0]);
  assert.deepEqual(status.instances.map((instance) => instance.activeRequests), [0, 0]);
});

Deno.test("when every stream opens with an error event, the client gets a 502 with its message", async () => {
  await using first = sseBackend([OVERLOADED]);
  await using second = sseBackend([
    'event: error\ndata: {"error":{"message":"Out of KV cache"}}\n\n',
  ]);
  await using gateway = await startGateway(
    oneService("chat", [first.url, second.url], {
      strategy: "round-robin",
      server: TIMEOUTS("    idle: 5000\n"),
    }),
  );
  const response = await postChat(gateway.url, { stream: true });
  assert.equal(response.status, 502);
  const { error } = await response.json();
  assert.equal(error.code, "upstream_error");
  assert.equal(error.type, "upstream_error");
  assert.equal(error.param, null);
  assert.match(error.message, /Out of KV cache/);
  const status = await serviceStatus(gateway.url);
  assert.deepEqual(status.instances.map((instance) => instance.failures), [1, 1]);
  assert.deepEqual(await backendCalls(gateway.url), { bad_answer: 2 });
});

Deno.test("an error event opens the breaker like a 5xx", async () => {
  await using overloaded = sseBackend([OVERLOADED]);
  await using gateway = await startGateway(`server:
  retries: 0
model:
  outlier-detection: { enabled: false }
  circuit-breaker: { failureThreshold: 1, timeout: 60000 }
  services:
    chat:
      instances:
        - { name: m, base-url: "${overloaded.url}" }
`);
  const failed = await postChat(gateway.url, { stream: true });
  assert.equal(failed.status, 502);
  await failed.body?.cancel();
  const instance = (await serviceStatus(gateway.url)).instances[0]!;
  assert.equal(instance.breaker?.status, "open");
  assert.match(instance.lastError?.message ?? "", /Engine overloaded/);
  const cut = await postChat(gateway.url, { stream: true });
  assert.equal(cut.status, 503, "the breaker keeps requests away");
  await cut.body?.cancel();
  assert.equal(overloaded.heads.length, 1);
});

Deno.test("a data event first is relayed with what came before it, byte for byte", async () => {
  const events = [
    ": ping\n\n",
    'data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":' +
    '{"content":"Hi"}}]}\n\n',
    "data: [DONE]\n\n",
  ];
  await using backend = sseBackend(events, { end: true });
  await using gateway = await startGateway(
    oneService("chat", [backend.url], { server: TIMEOUTS("    first-token: 5000\n") }),
  );
  const response = await postChat(gateway.url, { stream: true });
  assert.equal(response.status, 200);
  assert.equal(await response.text(), events.join(""));
});

Deno.test("a backend that sends its head but no event within first-token is left for another", async () => {
  await using silent = sseBackend([]);
  await using healthy = await startFakeBackend({ name: "healthy" });
  await using gateway = await startGateway(
    oneService("chat", [silent.url, healthy.url], {
      strategy: "round-robin",
      server: TIMEOUTS("    first-token: 100\n"),
    }),
  );
  assert.equal(await streamedText(sdk(gateway.url)), "Hello!");
  assert.equal(silent.heads.length, 1);
  const status = await serviceStatus(gateway.url);
  assert.deepEqual(status.instances.map((instance) => instance.failures), [1, 0]);
});

Deno.test("a keep-alive comment is not the first token", async () => {
  await using pinging = sseBackend([": ping\n\n", ": ping\n\n"]);
  await using healthy = await startFakeBackend({ name: "healthy" });
  await using gateway = await startGateway(
    oneService("chat", [pinging.url, healthy.url], {
      strategy: "round-robin",
      server: TIMEOUTS("    first-token: 100\n"),
    }),
  );
  assert.equal(await streamedText(sdk(gateway.url)), "Hello!");
  assert.equal(pinging.heads.length, 1);
});

Deno.test("when no instance sends a first token in time, the client gets a 504", async () => {
  await using first = sseBackend([]);
  await using second = sseBackend([": ping\n\n"]);
  const output = new LogLines();
  const logger = new Logger({ level: "info", format: "json", output });
  await using gateway = await startGateway(
    oneService("chat", [first.url, second.url], {
      strategy: "round-robin",
      server: TIMEOUTS("    first-token: 100\n"),
    }),
    { logger },
  );
  const response = await postChat(gateway.url, { stream: true });
  assert.equal(response.status, 504);
  const { error } = await response.json();
  assert.equal(error.code, "upstream_timeout");
  assert.match(error.message, /first token within 100 ms/);
  const status = await serviceStatus(gateway.url);
  assert.deepEqual(status.instances.map((instance) => instance.failures), [1, 1]);
  assert.deepEqual(await backendCalls(gateway.url), { timeout: 2 });
  const line = output.lines.map((text) => JSON.parse(text)).find((entry) =>
    String(entry.msg).startsWith("POST /v1/chat/completions")
  );
  assert.equal(line?.status, 504);
  assert.equal(line?.outcome, "timeout");
  assert.equal(line?.reason, "upstream_timeout");
});

Deno.test("the first-token timeout stops once the first event is in", async () => {
  // Each event after the first comes well after the first-token timeout would have passed.
  await using slow = await startFakeBackend({ name: "slow", stream: { intervalMs: 150 } });
  await using gateway = await startGateway(
    oneService("chat", [slow.url], { server: TIMEOUTS("    first-token: 50\n", 0) }),
  );
  assert.equal(await streamedText(sdk(gateway.url)), "Hello!");
  assert.equal((await serviceStatus(gateway.url)).instances[0]!.failures, 0);
});

Deno.test("a request that is not streamed has no first-token timeout", async () => {
  await using silent = sseBackend([]);
  await using gateway = await startGateway(
    oneService("chat", [silent.url], {
      server: TIMEOUTS("    first-token: 50\n    idle: 0\n", 0),
    }),
  );
  const response = await postChat(gateway.url);
  assert.equal(response.status, 200, "its head is passed on as it comes");
  await response.body?.cancel();
});

Deno.test("with first-token off, the idle timeout bounds the wait for the first event", async () => {
  await using silent = sseBackend([": ping\n\n"]);
  await using healthy = await startFakeBackend({ name: "healthy" });
  await using gateway = await startGateway(
    oneService("chat", [silent.url, healthy.url], {
      strategy: "round-robin",
      server: TIMEOUTS("    first-token: 0\n    idle: 100\n"),
    }),
  );
  assert.equal(await streamedText(sdk(gateway.url)), "Hello!");
  assert.equal(silent.heads.length, 1);
  assert.deepEqual(await backendCalls(gateway.url), { timeout: 1, 200: 1 });
});

Deno.test("a head later than first-token is a first-token timeout", async () => {
  await using slow = startScriptedServer(async (peer) => {
    await peer.readRequest();
    // Sends nothing until the gateway goes away.
    await peer.readRequest();
  });
  await using gateway = await startGateway(
    oneService("chat", [slow.url], {
      server: TIMEOUTS("    first-byte: 60000\n    first-token: 100\n", 0),
    }),
  );
  const response = await postChat(gateway.url, { stream: true });
  assert.equal(response.status, 504);
  assert.match((await response.json()).error.message, /first token within 100 ms/);
});

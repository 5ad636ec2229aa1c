/**
 * A client that leaves cancels the upstream request at once, and the instance's active count
 * returns to zero.
 */
import assert from "node:assert/strict";
import OpenAI from "openai";
import { type FakeBackend, startFakeBackend } from "./fixtures/fake_backend.ts";
import { eventually, Gate, gates, within } from "./fixtures/gate.ts";
import { oneService, startGateway, type TestGateway } from "./fixtures/gateway.ts";
import { postChat } from "./fixtures/requests.ts";
import { BACKEND_ROUTES, type BackendRoute } from "./fixtures/backend_routes.ts";

const chatBody = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({ model: "m", messages: [], ...extra });

/** A gateway in front of `backend` over `route`; closing it stops what the route needs too. */
async function gatewayFor(
  backend: FakeBackend,
  route: BackendRoute,
  service = "chat",
): Promise<TestGateway> {
  const routed = route.setUp();
  const gateway = await startGateway(
    oneService(service, [backend.url], { model: service === "chat" ? "m" : "voice" }),
    routed.gateway,
  );
  const stopGateway = gateway.close;
  const close = async () => {
    await stopGateway();
    await routed[Symbol.asyncDispose]();
  };
  return Object.assign(gateway, { close, [Symbol.asyncDispose]: close });
}

/** A backend streaming "a", "b", "c", each once its gate opens (the first is), and a gateway. */
async function heldStream(route: BackendRoute) {
  const held = gates(4);
  held[0]!.open();
  const backend = await startFakeBackend({
    stream: { tokens: ["a", "b", "c"], gates: held },
    tls: route.tls,
  });
  return { held, backend, gateway: await gatewayFor(backend, route) };
}

/** The first instance's requests in flight, from the status of the service at `path`. */
async function activeRequests(gateway: TestGateway, path = "/v1/chat"): Promise<number> {
  const status = await (await fetch(`${gateway.url}${path}/status`)).json();
  return status.instances[0].activeRequests;
}

async function assertSettles(gateway: TestGateway, path = "/v1/chat"): Promise<void> {
  await eventually(async () => assert.equal(await activeRequests(gateway, path), 0), 2000);
}

for (const route of BACKEND_ROUTES) {
  Deno.test(`${route.name}: a client that aborts while waiting for an answer aborts the backend's request`, async () => {
    const hold = new Gate();
    const backend = await startFakeBackend({ hold, tls: route.tls });
    const gateway = await gatewayFor(backend, route);
    try {
      const controller = new AbortController();
      const pending = postChat(gateway.url, {}, { signal: controller.signal });
      const request = await backend.received(1);
      assert.equal(await activeRequests(gateway), 1);
      controller.abort();
      await assert.rejects(pending);
      await within(request.aborted, 2000, "the backend saw its request aborted");
      await assertSettles(gateway);
    } finally {
      hold.open();
      await gateway.close();
      await backend.close();
    }
  });

  Deno.test(`${route.name}: a client that aborts mid-stream aborts the backend's stream`, async () => {
    const { held, backend, gateway } = await heldStream(route);
    try {
      const controller = new AbortController();
      const response = await fetch(`${gateway.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: chatBody({ stream: true }),
        signal: controller.signal,
      });
      const reader = response.body!.getReader();
      const first = await reader.read();
      assert.match(new TextDecoder().decode(first.value), /"content":"a"/);
      const request = backend.requests[0]!;
      assert.equal(await activeRequests(gateway), 1);
      controller.abort();
      await reader.read().catch(() => {});
      await within(request.aborted, 2000, "the backend saw its stream aborted");
      assert.equal(request.chunksSent, 1, "nothing was generated after the client left");
      await assertSettles(gateway);
    } finally {
      for (const gate of held) gate.open();
      await gateway.close();
      await backend.close();
    }
  });

  Deno.test(`${route.name}: an SDK stream aborted by the client aborts the backend's stream`, async () => {
    const { held, backend, gateway } = await heldStream(route);
    try {
      const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: "sk-test", maxRetries: 0 });
      const stream = await client.chat.completions.create({
        model: "m",
        messages: [],
        stream: true,
      });
      const received: string[] = [];
      for await (const chunk of stream) {
        received.push(chunk.choices[0]?.delta.content ?? "");
        break; // Leaving the loop aborts the SDK's request.
      }
      assert.deepEqual(received, ["a"]);
      await within(backend.requests[0]!.aborted, 2000, "the backend saw its stream aborted");
      await assertSettles(gateway);
    } finally {
      for (const gate of held) gate.open();
      await gateway.close();
      await backend.close();
    }
  });

  Deno.test(`${route.name}: a client that aborts during a slow speech download aborts the backend`, async () => {
    const hold = new Gate();
    const backend = await startFakeBackend({ hold, tls: route.tls });
    const gateway = await gatewayFor(backend, route, "tts");
    try {
      const controller = new AbortController();
      const pending = fetch(`${gateway.url}/v1/audio/speech`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "voice", input: "hi", voice: "a" }),
        signal: controller.signal,
      });
      const request = await backend.received(1);
      controller.abort();
      await assert.rejects(pending);
      await within(request.aborted, 2000, "the backend saw its request aborted");
      await assertSettles(gateway, "/v1/audio/speech");
    } finally {
      hold.open();
      await gateway.close();
      await backend.close();
    }
  });
}

Deno.test("a request whose client left is not retried on another instance", async () => {
  const hold = new Gate();
  const first = await startFakeBackend({ name: "first", hold });
  const second = await startFakeBackend({ name: "second", hold });
  const gateway = await startGateway(
    oneService("chat", [first.url, second.url], {
      strategy: "round-robin",
      server: `server:
  retries: 2
`,
    }),
  );
  try {
    const controller = new AbortController();
    const pending = postChat(gateway.url, {}, { signal: controller.signal });
    const request = await Promise.race([first.received(1), second.received(1)]);
    controller.abort();
    await assert.rejects(pending);
    await within(request.aborted, 2000, "the backend saw its request aborted");
    await eventually(async () => {
      const status = await (await fetch(`${gateway.url}/v1/chat/status`)).json();
      assert.deepEqual(
        status.instances.map((i: { activeRequests: number }) => i.activeRequests),
        [0, 0],
      );
    }, 2000);
    assert.equal(first.requests.length + second.requests.length, 1, "no retry for a gone client");
  } finally {
    hold.open();
    await gateway.close();
    await first.close();
    await second.close();
  }
});

Deno.test("a client that leaves mid-upload is not logged as an unexpected gateway error", async () => {
  const backend = await startFakeBackend();
  const logged: string[] = [];
  const gateway = await startGateway(
    `
model:
  services:
    chat:
      instances:
        - name: m
          base-url: ${backend.url}
`,
    { logError: (message, error) => logged.push(`${message}: ${error}`) },
  );
  try {
    const controller = new AbortController();
    let pulls = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(stream) {
        if (pulls++ === 0) {
          stream.enqueue(new TextEncoder().encode(`{"model":"m","messages":[`));
        } else {
          await new Promise(() => {}); // The rest never comes: the client leaves instead.
        }
      },
    }, { highWaterMark: 0 });
    const pending = fetch(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
      signal: controller.signal,
    });
    await gateway.arrived(1);
    controller.abort();
    await assert.rejects(pending);
  } finally {
    await gateway.close(); // Waits for the gateway's handler to finish.
    await backend.close();
  }
  assert.equal(backend.requests.length, 0);
  assert.deepEqual(logged, []);
});

Deno.test("a client that leaves partway through a long speech body aborts the backend's answer", async () => {
  // A backend that sends the head and the first bytes of the audio, then nothing more.
  const cancelled = Promise.withResolvers<void>();
  const backend = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    if (request.method === "GET") return Response.json({ object: "list", data: [] });
    const audio = new ReadableStream<Uint8Array>({
      start(stream) {
        stream.enqueue(new Uint8Array(4096).fill(7));
      },
      cancel() {
        cancelled.resolve();
      },
    });
    return new Response(audio, { headers: { "content-type": "audio/mpeg" } });
  });
  const gateway = await startGateway(
    oneService("tts", [`http://127.0.0.1:${backend.addr.port}`], { model: "voice" }),
  );
  try {
    const controller = new AbortController();
    const response = await fetch(`${gateway.url}/v1/audio/speech`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "voice", input: "hi", voice: "a" }),
      signal: controller.signal,
    });
    assert.equal(response.status, 200);
    const reader = response.body!.getReader();
    const first = await reader.read();
    assert.equal(first.value?.[0], 7);
    controller.abort();
    await reader.read().catch(() => {});
    await within(cancelled.promise, 2000, "the backend saw its answer cancelled");
    await assertSettles(gateway, "/v1/audio/speech");
  } finally {
    await gateway.close();
    await backend.shutdown();
  }
});

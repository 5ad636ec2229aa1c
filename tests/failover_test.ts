/**
 * Failures before the first byte go to another instance; after it, never. A backend that cannot
 * be reached, or that drops the connection, reads the same on every route to it.
 */
import assert from "node:assert/strict";
import OpenAI from "openai";
import { startFakeBackend } from "./fixtures/fake_backend.ts";
import { oneService, startGateway } from "./fixtures/gateway.ts";
import { errorAnswer } from "./fixtures/openai_answers.ts";
import { closedPortUrl } from "./fixtures/ports.ts";
import { startRawServer, startScriptedServer } from "./fixtures/raw_http.ts";
import { BACKEND_ROUTES, deadUrl, gatewayOverRoute } from "./fixtures/backend_routes.ts";
import { postChat, serviceStatus } from "./fixtures/requests.ts";

Deno.test("a dead instance and a 500-answering instance are skipped for the healthy one", async () => {
  await using failing = await startFakeBackend({ name: "failing", failStatus: 500 });
  await using healthy = await startFakeBackend({ name: "healthy" });
  const dead = closedPortUrl();
  await using gateway = await startGateway(
    oneService("chat", [dead, failing.url, healthy.url], {
      strategy: "round-robin",
      server: `server:
  retries: 2
`,
    }),
  );
  const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: "sk-test", maxRetries: 0 });
  for (let i = 0; i < 3; i++) {
    const completion = await client.chat.completions.create({ model: "m", messages: [] });
    assert.equal(completion.choices[0]?.message.content, "hello from healthy");
  }
  assert.equal(healthy.requests.length, 3);
  assert.ok(failing.requests.length >= 1, "the failing backend was tried");
});

Deno.test("an instance that closes the connection unanswered is skipped", async () => {
  await using dropper = startRawServer(undefined);
  await using healthy = await startFakeBackend({ name: "healthy" });
  await using gateway = await startGateway(
    oneService("chat", [dropper.url, healthy.url], { strategy: "round-robin" }),
  );
  for (let i = 0; i < 2; i++) {
    const response = await postChat(gateway.url);
    assert.equal(response.status, 200);
    assert.equal((await response.json()).backend, "healthy");
  }
  assert.ok(dropper.heads.length >= 1, "the dropping backend was tried");
});

Deno.test("when every instance fails, the last backend's 5xx body comes back unchanged", async () => {
  await using first = await startFakeBackend({ name: "first", failStatus: 500 });
  await using second = await startFakeBackend({ name: "second", failStatus: 503 });
  await using gateway = await startGateway(
    oneService("chat", [first.url, second.url], {
      strategy: "round-robin",
      server: "server:\n  retries: 1\n",
    }),
  );
  const response = await postChat(gateway.url);
  assert.equal(response.status, 503);
  assert.equal(await response.text(), errorAnswer(503, "second"));
  assert.equal(first.requests.length, 1);
  assert.equal(second.requests.length, 1);
  const status = await (await fetch(`${gateway.url}/v1/chat/status`)).json();
  assert.deepEqual(
    status.instances.map((i: { activeRequests: number }) => i.activeRequests),
    [0, 0],
  );
  assert.deepEqual(status.instances.map((i: { failures: number }) => i.failures), [1, 1]);
});

Deno.test("a backend's 5xx answer wins over a later instance that could not be reached", async () => {
  await using failing = await startFakeBackend({ name: "failing", failStatus: 500 });
  await using gateway = await startGateway(
    oneService("chat", [failing.url, closedPortUrl()], { strategy: "round-robin" }),
  );
  const response = await postChat(gateway.url);
  const text = await response.text();
  assert.equal(failing.requests.length, 1);
  // Some backend answered, so its own error reaches the client, not a gateway 502.
  assert.equal(response.status, 500, text);
  assert.equal(text, errorAnswer(500, "failing"));
});

Deno.test("when no instance answered at all, the client gets a 502 in OpenAI shape", async () => {
  await using gateway = await startGateway(oneService("chat", [closedPortUrl(), closedPortUrl()]));
  const response = await postChat(gateway.url);
  assert.equal(response.status, 502);
  assert.match(response.headers.get("content-type") ?? "", /application\/json/);
  const { error } = await response.json();
  assert.deepEqual(Object.keys(error).toSorted(), ["code", "message", "param", "type"]);
  assert.equal(error.code, "upstream_unreachable");
  assert.equal(error.param, null);
  assert.equal(typeof error.message, "string");
  assert.doesNotMatch(error.message, /127\.0\.0\.1/, "the backend's address is not revealed");
});

Deno.test("the SDK sees the last backend's error as an APIError with its status", async () => {
  await using failing = await startFakeBackend({ name: "only", failStatus: 500 });
  await using gateway = await startGateway(oneService("embedding", [failing.url], { model: "e" }));
  const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: "sk-test", maxRetries: 0 });
  await assert.rejects(
    client.embeddings.create({ model: "e", input: "x" }),
    (error: unknown) => {
      assert.ok(error instanceof OpenAI.APIError);
      assert.equal(error.status, 500);
      assert.equal(error.code, "backend_500");
      return true;
    },
  );
});

Deno.test("a stream that already started is never retried on another instance", async () => {
  await using dropping = await startFakeBackend({
    name: "dropping",
    stream: { tokens: ["a", "b", "c"], dropAfter: 1 },
  });
  await using spare = await startFakeBackend({ name: "spare" });
  await using gateway = await startGateway(
    oneService("chat", [dropping.url, spare.url], { strategy: "round-robin" }),
  );
  const response = await postChat(gateway.url, { model: "m", stream: true });
  assert.equal(response.status, 200);
  let text = "";
  const failed = await (async () => {
    try {
      for await (const chunk of response.body!.pipeThrough(new TextDecoderStream())) {
        text += chunk;
      }
      return false;
    } catch {
      return true;
    }
  })();
  assert.ok(failed || !text.includes("[DONE]"), "the client sees an error or a truncated stream");
  assert.match(text, /"content":"a"/);
  assert.doesNotMatch(text, /"content":"b"/);
  assert.equal(spare.requests.length, 0, "the spare backend got no request");
});

Deno.test("retries stop after server.retries further instances", async () => {
  const backends = await Promise.all(
    ["a", "b", "c"].map((name) => startFakeBackend({ name, failStatus: 500 })),
  );
  const gateway = await startGateway(`
server:
  retries: 1
model:
  services:
    chat:
      load-balance:
        type: round-robin
      instances:
${backends.map((b) => `        - name: m\n          base-url: ${b.url}`).join("\n")}
`);
  try {
    const response = await postChat(gateway.url);
    assert.equal(response.status, 500);
    await response.body?.cancel();
    const tried = backends.reduce((sum, b) => sum + b.requests.length, 0);
    assert.equal(tried, 2, "one attempt and one retry");
  } finally {
    await gateway.close();
    for (const backend of backends) await backend.close();
  }
});

Deno.test("a 4xx answer from a backend is passed on, not retried", async () => {
  await using first = await startFakeBackend({ name: "first", failStatus: 429 });
  await using second = await startFakeBackend({ name: "second" });
  await using gateway = await startGateway(
    oneService("chat", [first.url, second.url], { strategy: "round-robin" }),
  );
  const response = await postChat(gateway.url);
  assert.equal(response.status, 429);
  assert.equal(await response.text(), errorAnswer(429, "first"));
  assert.equal(second.requests.length, 0);
});

Deno.test("a pattern instance answering 404 is skipped for the next one", async () => {
  await using lacking = await startFakeBackend({ name: "lacking" });
  await using serving = await startFakeBackend({ name: "serving" });
  await using gateway = await startGateway(`
model:
  services:
    chat:
      load-balance:
        type: round-robin
      instances:
        - name: "*"
          base-url: ${lacking.url}
          path: /no/such/path
        - name: "*"
          base-url: ${serving.url}
`);
  for (let i = 0; i < 2; i++) {
    const response = await postChat(gateway.url, { model: "any-model" });
    assert.equal(response.status, 200);
    assert.equal((await response.json()).backend, "serving");
  }
  assert.ok(lacking.requests.length >= 1, "the lacking backend was tried");
});

Deno.test("with every instance out, the 503 names the model asked for and why", async () => {
  await using failing = await startFakeBackend({ name: "failing", failStatus: 500 });
  await using gateway = await startGateway(`
server:
  retries: 0
model:
  circuit-breaker:
    failureThreshold: 1
    timeout: 60000
  services:
    chat:
      instances:
        - name: "qwen-*"
          base-url: ${failing.url}
`);
  const failed = await postChat(gateway.url, { model: "qwen-7b" });
  assert.equal(failed.status, 500);
  await failed.body?.cancel();
  const out = await postChat(gateway.url, { model: "qwen-7b" });
  assert.equal(out.status, 503);
  const { error } = await out.json();
  assert.equal(error.code, "no_healthy_upstream");
  assert.equal(
    error.message,
    'Every instance of model "qwen-7b" is out of service: 1 with its circuit breaker open',
  );
});

for (const route of BACKEND_ROUTES) {
  Deno.test(`${route.name}: a dead instance is skipped for a healthy one`, async () => {
    await using healthy = await startFakeBackend({ name: "healthy", tls: route.tls });
    await using gateway = await gatewayOverRoute(
      route,
      oneService("chat", [deadUrl(route), healthy.url], {
        strategy: "round-robin",
        server: "server:\n  retries: 1\n",
      }),
    );
    for (let i = 0; i < 2; i++) {
      const response = await postChat(gateway.url);
      assert.equal(response.status, 200);
      assert.equal((await response.json()).backend, "healthy");
    }
    const [dead] = (await serviceStatus(gateway.url)).instances;
    assert.equal(dead?.failures, 1);
  });

  Deno.test(`${route.name}: with no instance reachable, the client gets 502 upstream_unreachable`, async () => {
    await using gateway = await gatewayOverRoute(
      route,
      oneService("chat", [deadUrl(route), deadUrl(route)], {
        strategy: "round-robin",
        server: "server:\n  retries: 1\n",
      }),
    );
    const response = await postChat(gateway.url);
    assert.equal(response.status, 502);
    const { error } = await response.json();
    assert.equal(error.code, "upstream_unreachable");
    assert.match(error.message, /^Model "m" failed after 2 attempts: The backend could not be/);
  });

  Deno.test(`${route.name}: an instance that resets the connection unanswered is skipped; alone, it is a 502`, async () => {
    // The body is left unread, so closing the connection resets it.
    await using resetting = startScriptedServer(async (peer) => {
      await peer.readRequest({ body: false });
    }, { tls: route.tls });
    await using healthy = await startFakeBackend({ name: "healthy", tls: route.tls });
    {
      await using gateway = await gatewayOverRoute(
        route,
        oneService("chat", [resetting.url, healthy.url], { strategy: "round-robin" }),
      );
      for (let i = 0; i < 2; i++) {
        const response = await postChat(gateway.url);
        assert.equal(response.status, 200);
        assert.equal((await response.json()).backend, "healthy");
      }
    }
    assert.ok(resetting.heads.length >= 1, "the resetting backend was tried");
    await using alone = await gatewayOverRoute(
      route,
      oneService("chat", [resetting.url], { server: "server:\n  retries: 0\n" }),
    );
    const response = await postChat(alone.url);
    assert.equal(response.status, 502);
    assert.equal((await response.json()).error.code, "upstream_unreachable");
  });
}

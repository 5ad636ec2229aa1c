/**
 * Against a real llama.cpp `llama-server` (a tiny random-weight model, greedy sampling): what the
 * gateway answers is what the server answers itself, byte for byte apart from ids, timestamps
 * and timings, for chat, streaming chat, text completions and embeddings; a client that leaves,
 * before the answer or mid-stream, stops the server's generation; a server that dies and comes
 * back on the same port is taken out and brought back.
 *
 * The instance uses the `llamacpp` adapter. Build the server once with
 * `scripts/llama_server_setup.sh`; without it these tests are ignored.
 */
import assert from "node:assert/strict";
import OpenAI, { APIError } from "openai";
import { eventually, within } from "./fixtures/gate.ts";
import type { TestGateway } from "./fixtures/gateway.ts";
import {
  bothAnswers,
  comparable,
  gatewayOverLlamaServer,
  LLAMA_MODEL,
  llamaServerTest,
} from "./fixtures/llama_server.ts";
import { serviceStatus } from "./fixtures/requests.ts";

/** A greedy request: the same prompt gives the same tokens. No prompt cache, so usage matches. */
function chatBody(extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    model: LLAMA_MODEL,
    messages: [{ role: "user", content: "Name three rivers." }],
    max_tokens: 24,
    temperature: 0,
    seed: 7,
    cache_prompt: false,
    ...extra,
  });
}

function post(url: string, path: string, body: string, signal?: AbortSignal): Promise<Response> {
  return fetch(`${url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
    ...(signal ? { signal } : {}),
  });
}

/** The server's one slot, as `/slots` reports it. */
async function slot(server: { url: string }): Promise<{ is_processing: boolean }> {
  return (await (await fetch(`${server.url}/slots`)).json())[0];
}

async function instanceHealth(gateway: TestGateway): Promise<string | undefined> {
  return (await serviceStatus(gateway.url)).instances[0]?.health.status;
}

llamaServerTest("a chat answer is the server's own", async (build) => {
  await using running = await gatewayOverLlamaServer(build);
  const { direct, proxied } = await bothAnswers(
    running,
    "/v1/chat/completions",
    chatBody(),
  );
  assert.equal(JSON.parse(direct).object, "chat.completion");
  assert.ok(JSON.parse(direct).choices[0].message.content.length > 0, direct);
  assert.equal(comparable(proxied), comparable(direct));
});

llamaServerTest(
  "a streamed chat answer has the server's own events, delta for delta",
  async (build) => {
    await using running = await gatewayOverLlamaServer(build);
    const { direct, proxied } = await bothAnswers(
      running,
      "/v1/chat/completions",
      chatBody({ stream: true, stream_options: { include_usage: true } }),
    );
    const events = (text: string) => comparable(text).split("\n\n").filter(Boolean);
    assert.ok(events(direct).length > 10, direct);
    assert.equal(events(direct).at(-1), "data: [DONE]");
    assert.deepEqual(events(proxied), events(direct));
  },
);

llamaServerTest(
  "a text completion, served by the chat instance, is the server's own",
  async (build) => {
    await using running = await gatewayOverLlamaServer(build);
    const body = JSON.stringify({
      model: LLAMA_MODEL,
      prompt: "Three rivers:",
      max_tokens: 24,
      temperature: 0,
      cache_prompt: false,
    });
    const { direct, proxied } = await bothAnswers(running, "/v1/completions", body);
    assert.equal(JSON.parse(direct).object, "text_completion");
    assert.equal(comparable(proxied), comparable(direct));
  },
);

llamaServerTest("embeddings are the server's own, byte for byte", async (build) => {
  await using running = await gatewayOverLlamaServer(build);
  const body = JSON.stringify({ model: LLAMA_MODEL, input: ["a river", "a mountain"] });
  const { direct, proxied } = await bothAnswers(
    running,
    "/v1/embeddings",
    body,
  );
  assert.equal(JSON.parse(direct).data.length, 2);
  assert.equal(proxied, direct);
});

llamaServerTest("the openai SDK gets the server's answers through the gateway", async (build) => {
  await using running = await gatewayOverLlamaServer(build);
  const sdk = (url: string) => new OpenAI({ baseURL: `${url}/v1`, apiKey: "sk-x", maxRetries: 0 });
  const direct = sdk(running.server.url);
  const proxied = sdk(running.gateway.url);
  const request = {
    model: LLAMA_MODEL,
    messages: [{ role: "user" as const, content: "Name three rivers." }],
    max_tokens: 24,
    temperature: 0,
  };
  const answer = await proxied.chat.completions.create(request);
  assert.equal(
    answer.choices[0]?.message.content,
    (await direct.chat.completions.create(request)).choices[0]?.message.content,
  );

  const deltas = async (client: OpenAI) => {
    const received: string[] = [];
    const stream = await client.chat.completions.create({ ...request, stream: true });
    for await (const chunk of stream) received.push(chunk.choices[0]?.delta.content ?? "");
    return received;
  };
  const streamed = await deltas(proxied);
  assert.equal(streamed.join(""), answer.choices[0]?.message.content);
  assert.deepEqual(streamed, await deltas(direct));

  // The SDK asks for base64 and decodes it.
  const embedding = { model: LLAMA_MODEL, input: "a river" };
  const vector = (await proxied.embeddings.create(embedding)).data[0]?.embedding;
  assert.ok(vector && vector.length > 0);
  assert.deepEqual(vector, (await direct.embeddings.create(embedding)).data[0]?.embedding);
});

llamaServerTest("a client that leaves mid-stream stops the server's generation", async (build) => {
  await using running = await gatewayOverLlamaServer(build);
  const { server, gateway } = running;
  const controller = new AbortController();
  // Long enough (every token of the context, end-of-text ignored) to run for seconds.
  const response = await post(
    gateway.url,
    "/v1/chat/completions",
    chatBody({ stream: true, max_tokens: 1900, ignore_eos: true }),
    controller.signal,
  );
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let received = "";
  while (!received.includes('"content":"')) received += (await reader.read()).value ?? "";
  assert.equal((await slot(server)).is_processing, true);

  controller.abort();
  await reader.read().catch(() => {});
  await eventually(async () => assert.equal((await slot(server)).is_processing, false), 2000);
  assert.match(server.log(), /cancel task/);
  // The server says it stopped once its slot is free: its line may come a moment later.
  await eventually(() => {
    const [, tokens] = /release: .* stop processing: n_tokens = (\d+)/.exec(server.log()) ?? [];
    assert.ok(Number(tokens) < 1900, `the server stopped at ${tokens} tokens`);
    return Promise.resolve();
  }, 2000);
  await eventually(async () => {
    assert.equal((await serviceStatus(gateway.url)).instances[0]?.activeRequests, 0);
  }, 2000);
});

llamaServerTest(
  "a client that leaves before the answer stops the server's generation",
  async (build) => {
    await using running = await gatewayOverLlamaServer(build);
    const { server, gateway } = running;
    const controller = new AbortController();
    const pending = post(
      gateway.url,
      "/v1/chat/completions",
      chatBody({ max_tokens: 1900, ignore_eos: true }),
      controller.signal,
    );
    await eventually(async () => assert.equal((await slot(server)).is_processing, true), 5000);

    controller.abort();
    await assert.rejects(pending);
    // Waiting for a whole answer, the server looks at its client's connection once no result of
    // any task has come for a second; asking for /slots meanwhile would put that off.
    await eventually(() => Promise.resolve(assert.match(server.log(), /cancel task/)), 5000);
    assert.equal((await slot(server)).is_processing, false);
    assert.equal((await serviceStatus(gateway.url)).instances[0]?.activeRequests, 0);
  },
);

llamaServerTest(
  "a server that dies is taken out with the gateway's errors and back after a restart",
  async (build) => {
    await using running = await gatewayOverLlamaServer(build);
    const { server, gateway } = running;
    await eventually(async () => assert.equal(await instanceHealth(gateway), "up"), 5000);
    const before = await (await post(gateway.url, "/v1/chat/completions", chatBody())).json();

    // Killed mid-stream: the stream ends in the gateway's error event, which the SDK raises.
    const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: "sk-x", maxRetries: 0 });
    const stream = await client.chat.completions.create({
      model: LLAMA_MODEL,
      messages: [{ role: "user", content: "Name three rivers." }],
      max_tokens: 1900,
      temperature: 0,
      stream: true,
    });
    const broken = (async () => {
      for await (const chunk of stream) {
        if (chunk.choices[0]?.delta.content) await server.kill();
      }
    })();
    const error = await within(broken.then(() => undefined, (e) => e), 10_000, "the stream ended");
    assert.ok(error instanceof APIError, String(error));
    assert.equal(error.code, "upstream_broken_stream");

    await eventually(async () => assert.equal(await instanceHealth(gateway), "down"), 5000);
    const refused = await post(gateway.url, "/v1/chat/completions", chatBody());
    assert.equal(refused.status, 503);
    const { error: body } = await refused.json();
    assert.equal(body.code, "no_healthy_upstream");
    assert.equal(body.type, "upstream_error");
    assert.equal(
      body.message,
      `Every instance of model "${LLAMA_MODEL}" is out of service: 1 down`,
    );

    await server.restart();
    await eventually(async () => assert.equal(await instanceHealth(gateway), "up"), 5000);
    const after = await post(gateway.url, "/v1/chat/completions", chatBody());
    assert.equal(after.status, 200);
    assert.equal(
      (await after.json()).choices[0].message.content,
      before.choices[0].message.content,
    );
  },
);

llamaServerTest(
  "without probes, a dead server is a 502 upstream_unreachable, and answers again once restarted",
  async (build) => {
    await using running = await gatewayOverLlamaServer(build, {
      config: (url) =>
        `server:\n  retries: 0\nmodel:\n  services:\n    chat:\n      instances:\n` +
        `        - { name: ${LLAMA_MODEL}, base-url: "${url}", adapter: llamacpp }\n`,
    });
    const { server, gateway } = running;
    await server.kill();
    const refused = await post(gateway.url, "/v1/chat/completions", chatBody());
    assert.equal(refused.status, 502);
    const { error } = await refused.json();
    assert.deepEqual(Object.keys(error).sort(), ["code", "message", "param", "type"]);
    assert.equal(error.code, "upstream_unreachable");

    await server.restart();
    const { direct, proxied } = await bothAnswers(running, "/v1/chat/completions", chatBody());
    assert.equal(comparable(proxied), comparable(direct));
  },
);

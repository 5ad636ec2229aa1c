/**
 * Where the gateway's own HTTP/1.1 client is not used (https instances, a proxy named in the
 * environment, tracing), requests go through `fetch`: the same behaviour, end to end.
 */
import assert from "node:assert/strict";
import OpenAI from "openai";
import { startFakeBackend } from "./fixtures/fake_backend.ts";
import { gates, within } from "./fixtures/gate.ts";
import { oneService, spawnGateway, startGateway } from "./fixtures/gateway.ts";
import { sha256, SPEECH_BYTES } from "./fixtures/openai_answers.ts";
import { closedPortUrl } from "./fixtures/ports.ts";
import { startRawServer } from "./fixtures/raw_http.ts";
import { postChat } from "./fixtures/requests.ts";

const FETCH = { transport: "fetch" } as const;

Deno.test("through fetch: a chat, a stream chunk by chunk, and speech bytes", async () => {
  const held = gates(3);
  held[0]!.open();
  await using backend = await startFakeBackend({
    name: "solo",
    stream: { tokens: ["Hel", "lo"], gates: held },
  });
  await using gateway = await startGateway(
    `model:
  services:
    chat:
      instances:
        - name: m
          base-url: ${backend.url}
    tts:
      instances:
        - name: voice
          base-url: ${backend.url}
`,
    FETCH,
  );
  const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: "sk-test", maxRetries: 0 });
  const completion = await client.chat.completions.create({ model: "m", messages: [] });
  assert.equal(completion.choices[0]?.message.content, "hello from solo");

  const stream = await client.chat.completions.create({ model: "m", messages: [], stream: true });
  const tokens: string[] = [];
  for await (const chunk of stream) {
    const token = chunk.choices[0]?.delta.content;
    if (token) {
      tokens.push(token);
      // The backend sends the next token only once this one has arrived.
      held[tokens.length]?.open();
    }
  }
  assert.deepEqual(tokens, ["Hel", "lo"]);

  const speech = await client.audio.speech.create({ model: "voice", voice: "alloy", input: "hi" });
  assert.equal(
    await sha256(new Uint8Array(await speech.arrayBuffer())),
    await sha256(SPEECH_BYTES),
  );
});

Deno.test("through fetch: dead and dropping instances are skipped", async () => {
  await using dropper = startRawServer(undefined);
  await using healthy = await startFakeBackend({ name: "healthy" });
  await using gateway = await startGateway(
    oneService("chat", [closedPortUrl(), dropper.url, healthy.url], {
      strategy: "round-robin",
      server: "server:\n  retries: 2\n",
    }),
    FETCH,
  );
  for (let round = 0; round < 3; round++) {
    const response = await postChat(gateway.url);
    assert.equal(response.status, 200);
    assert.equal((await response.json()).backend, "healthy");
  }
  assert.ok(dropper.heads.length >= 1, "the dropping backend was tried");
});

Deno.test("through fetch: a client that leaves mid-stream aborts the backend's stream", async () => {
  const held = gates(3);
  held[0]!.open();
  await using backend = await startFakeBackend({ stream: { tokens: ["a", "b"], gates: held } });
  await using gateway = await startGateway(oneService("chat", [backend.url]), FETCH);
  const controller = new AbortController();
  const response = await postChat(gateway.url, { stream: true }, { signal: controller.signal });
  const reader = response.body!.getReader();
  assert.match(new TextDecoder().decode((await reader.read()).value), /"content":"a"/);
  controller.abort();
  await reader.read().catch(() => {});
  await within(backend.requests[0]!.aborted, 2000, "the backend saw its stream aborted");
  for (const gate of held) gate.open();
});

Deno.test("through fetch: hop-by-hop answer headers are not passed back", async () => {
  await using backend = startRawServer(
    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close, x-hop\r\n" +
      "x-hop: 1\r\nx-kept: 2\r\ncontent-length: 2\r\n\r\n{}",
  );
  await using gateway = await startGateway(oneService("chat", [backend.url]), FETCH);
  const response = await postChat(gateway.url);
  assert.equal(await response.text(), "{}");
  assert.equal(response.headers.get("x-kept"), "2");
  assert.equal(response.headers.has("x-hop"), false);
});

Deno.test("a proxy named in HTTP_PROXY carries the requests to backends", async () => {
  await using proxy = startRawServer(
    'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 15\r\n\r\n{"via":"proxy"}',
  );
  const backendUrl = closedPortUrl();
  const config = await Deno.makeTempFile({ suffix: ".yaml" });
  await Deno.writeTextFile(config, oneService("chat", [backendUrl]));
  await using gateway = await spawnGateway(["--config", config], {
    HTTP_PROXY: proxy.url,
    NO_PROXY: "",
  });
  const response = await postChat(gateway.url);
  assert.deepEqual(await response.json(), { via: "proxy" });
  // A proxy is asked for the whole URL.
  const chat = `POST ${backendUrl}/v1/chat/completions HTTP/1.1\r\n`;
  assert.ok(proxy.heads.some((head) => head.startsWith(chat)), proxy.heads.join("\n"));
  await Deno.remove(config);
});

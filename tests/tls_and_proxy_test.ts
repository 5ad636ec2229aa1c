/**
 * Backends on https, and backends behind the proxy the environment names: the same behaviour
 * as over plain HTTP, end to end.
 */
import assert from "node:assert/strict";
import OpenAI from "openai";
import { proxySettings } from "../src/transport/proxy_settings.ts";
import { startFakeBackend } from "./fixtures/fake_backend.ts";
import { gates, within } from "./fixtures/gate.ts";
import { oneService, spawnGateway, startGateway } from "./fixtures/gateway.ts";
import { startHttpProxy } from "./fixtures/http_proxy.ts";
import { sha256, SPEECH_BYTES } from "./fixtures/openai_answers.ts";
import { closedPortUrl } from "./fixtures/ports.ts";
import { startRawServer } from "./fixtures/raw_http.ts";
import { postChat, serviceStatus } from "./fixtures/requests.ts";

/** Proxy settings as the environment `variables` would give them. */
function proxiesFrom(variables: Record<string, string>) {
  return proxySettings((name) => variables[name])!;
}

Deno.test("https: a chat, a stream chunk by chunk, and speech bytes", async () => {
  const held = gates(3);
  held[0]!.open();
  await using backend = await startFakeBackend({
    name: "solo",
    tls: true,
    stream: { tokens: ["Hel", "lo"], gates: held },
  });
  assert.match(backend.url, /^https:/);
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

Deno.test("https: a client that leaves mid-stream aborts the backend's stream", async () => {
  const held = gates(3);
  held[0]!.open();
  await using backend = await startFakeBackend({
    tls: true,
    stream: { tokens: ["a", "b"], gates: held },
  });
  await using gateway = await startGateway(oneService("chat", [backend.url]));
  const controller = new AbortController();
  const response = await postChat(gateway.url, { stream: true }, { signal: controller.signal });
  const reader = response.body!.getReader();
  assert.match(new TextDecoder().decode((await reader.read()).value), /"content":"a"/);
  controller.abort();
  await reader.read().catch(() => {});
  await within(backend.requests[0]!.aborted, 2000, "the backend saw its stream aborted");
  for (const gate of held) gate.open();
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

Deno.test("a proxy URL other than http:// stops the gateway at start, naming the variable", async () => {
  await using gateway = await spawnGateway([], { ALL_PROXY: "socks5://127.0.0.1:1080" }).catch(
    (error: Error) => ({ error, [Symbol.asyncDispose]: () => Promise.resolve() }),
  );
  assert.ok("error" in gateway, "the gateway did not start");
  assert.match(
    gateway.error.message,
    /Cannot use the proxy \\?"socks5:\/\/127\.0\.0\.1:1080\\?" from ALL_PROXY: only http:\/\/ proxies/,
  );
});

Deno.test("https through HTTPS_PROXY: a CONNECT tunnel with the proxy's credentials", async () => {
  await using proxy = startHttpProxy({ credentials: "ops:s3cret" });
  await using backend = await startFakeBackend({ name: "tunnelled", tls: true });
  await using gateway = await startGateway(oneService("chat", [backend.url]), {
    proxies: proxiesFrom({ HTTPS_PROXY: `http://ops:s3cret@${new URL(proxy.url).host}` }),
  });
  for (let round = 0; round < 2; round++) {
    const response = await postChat(gateway.url);
    assert.equal(response.status, 200);
    assert.equal((await response.json()).backend, "tunnelled");
  }
  const port = new URL(backend.url).port;
  assert.deepEqual(proxy.requests, [`CONNECT 127.0.0.1:${port} HTTP/1.1`], "one kept tunnel");
  assert.deepEqual(proxy.authorizations, [`Basic ${btoa("ops:s3cret")}`]);
});

Deno.test("a proxy that refuses the tunnel is a failure of the instance, named in its error", async () => {
  await using proxy = startHttpProxy({ credentials: "ops:s3cret" });
  await using backend = await startFakeBackend({ tls: true });
  await using gateway = await startGateway(
    oneService("chat", [backend.url], { server: "server:\n  retries: 0\n" }),
    { proxies: proxiesFrom({ HTTPS_PROXY: proxy.url }) },
  );
  const response = await postChat(gateway.url);
  assert.equal(response.status, 502);
  assert.equal((await response.json()).error.code, "upstream_unreachable");
  const [instance] = (await serviceStatus(gateway.url)).instances;
  assert.match(instance?.lastError?.message ?? "", /the proxy refused the tunnel with 407/);
  assert.equal(backend.requests.length, 0);
});

Deno.test("NO_PROXY backends are reached directly", async () => {
  await using proxy = startHttpProxy();
  await using backend = await startFakeBackend({ name: "direct" });
  await using gateway = await startGateway(oneService("chat", [backend.url]), {
    proxies: proxiesFrom({ http_proxy: proxy.url, no_proxy: "example.com, 127.0.0.1" }),
  });
  const response = await postChat(gateway.url);
  assert.equal((await response.json()).backend, "direct");
  assert.deepEqual(proxy.requests, []);
});

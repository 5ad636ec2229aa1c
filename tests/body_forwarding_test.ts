/**
 * Request bodies reach the backend byte for byte: unknown fields, `tools`, multimodal content,
 * odd whitespace and key order, non-ASCII text, and multipart uploads; over every way the
 * gateway reaches a backend.
 */
import assert from "node:assert/strict";
import OpenAI from "openai";
import { BACKEND_ROUTES, type BackendRoute } from "./fixtures/backend_routes.ts";
import { gatewayOverBackend, oneService, startGateway } from "./fixtures/gateway.ts";
import { sha256 } from "./fixtures/openai_answers.ts";
import { startRawServer } from "./fixtures/raw_http.ts";

/** The echoing backend behind a gateway, over `route`; all stopped at scope end. */
async function setup(route: BackendRoute) {
  const routed = route.setUp();
  const t = await gatewayOverBackend((url) => `
model:
  services:
    chat:
      instances:
        - name: vision-model
          base-url: ${url}
    embedding:
      instances:
        - name: embedder
          base-url: ${url}
    stt:
      instances:
        - name: whisper
          base-url: ${url}
`, { backend: { name: "echo", tls: route.tls }, gateway: routed.gateway });
  return Object.assign(t, {
    async [Symbol.asyncDispose]() {
      await t.gateway.close();
      await t.backend.close();
      await routed[Symbol.asyncDispose]();
    },
  });
}

const encoder = new TextEncoder();

for (const route of BACKEND_ROUTES) {
  Deno.test(`${route.name}: a chat body with tools, multimodal content and vendor extras arrives byte for byte`, async () => {
    await using t = await setup(route);
    // Hand-written on purpose: key order, spacing and escapes a re-encoder would change.
    const text =
      `{ "messages" : [ {"role":"user","content":[{"type":"text","text":"What is in this image? \\u00e9 ü"},
    {"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo=","detail":"high"}}]}],
  "model":"vision-model",
  "tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}],
  "tool_choice":"auto", "response_format":{"type":"json_object"},
  "x_vendor_extra": {"top_k": 40, "min_p": 0.05, "repetition_penalty": 1.10},
  "temperature": 0.70 }`;
    const bytes = encoder.encode(text);
    const response = await fetch(`${t.gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: bytes,
    });
    assert.equal(response.status, 200);
    await response.body?.cancel();
    assert.deepEqual(t.backend.requests[0]?.body, bytes);
    assert.equal(t.backend.requests[0]?.headers.get("content-type"), "application/json");
  });

  Deno.test(`${route.name}: a body sent chunked (no content-length) arrives byte for byte`, async () => {
    await using t = await setup(route);
    const bytes = encoder.encode(`{"model":"embedder","input":["α","β"],"dimensions":3}`);
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes.slice(0, 10));
        controller.enqueue(bytes.slice(10));
        controller.close();
      },
    });
    const response = await fetch(`${t.gateway.url}/v1/embeddings`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    assert.equal(response.status, 200);
    await response.body?.cancel();
    assert.deepEqual(t.backend.requests[0]?.body, bytes);
  });

  Deno.test(`${route.name}: the SDK's tools and extra body fields reach the backend`, async () => {
    await using t = await setup(route);
    const client = new OpenAI({ baseURL: `${t.gateway.url}/v1`, apiKey: "sk-test", maxRetries: 0 });
    const tools = [{
      type: "function" as const,
      function: { name: "lookup", parameters: { type: "object", properties: {} } },
    }];
    await client.chat.completions.create({
      model: "vision-model",
      messages: [{
        role: "user",
        content: [{ type: "image_url", image_url: { url: "https://example.invalid/cat.png" } }],
      }],
      tools,
      // @ts-expect-error: a vendor field the SDK does not know, sent as is.
      chat_template_kwargs: { enable_thinking: false },
    });
    const sent = JSON.parse(new TextDecoder().decode(t.backend.requests[0]!.body));
    assert.deepEqual(sent.tools, tools);
    assert.deepEqual(sent.chat_template_kwargs, { enable_thinking: false });
    assert.equal(sent.messages[0].content[0].type, "image_url");
  });

  Deno.test(`${route.name}: a multipart upload arrives byte for byte, boundary and all`, async () => {
    await using t = await setup(route);
    const form = new FormData();
    form.append("model", "whisper");
    form.append("temperature", "0.2");
    form.append(
      "file",
      new File([Uint8Array.from({ length: 9_999 }, (_, i) => i % 256)], "a.ogg", {
        type: "audio/ogg",
      }),
    );
    const request = new Request(`${t.gateway.url}/v1/audio/transcriptions`, {
      method: "POST",
      body: form,
    });
    const contentType = request.headers.get("content-type")!;
    const bytes = new Uint8Array(await request.arrayBuffer());
    const response = await fetch(request.url, {
      method: "POST",
      headers: { "content-type": contentType },
      body: bytes,
    });
    assert.equal(response.status, 200);
    await response.body?.cancel();
    assert.deepEqual(t.backend.requests[0]?.body, bytes);
    assert.equal(t.backend.requests[0]?.headers.get("content-type"), contentType);
  });
}

Deno.test("a gzip-encoded backend answer reaches the client unchanged", async () => {
  const json = JSON.stringify({ id: "x", object: "chat.completion", pad: "a".repeat(500) });
  const gzipped = new Uint8Array(
    await new Response(new Blob([json]).stream().pipeThrough(new CompressionStream("gzip")))
      .arrayBuffer(),
  );
  const head = encoder.encode(
    [
      "HTTP/1.1 200 OK",
      "content-type: application/json",
      "content-encoding: gzip",
      `content-length: ${gzipped.byteLength}`,
      "",
      "",
    ].join("\r\n"),
  );
  await using raw = startRawServer(new Uint8Array([...head, ...gzipped]));
  await using gateway = await startGateway(oneService("chat", [raw.url]));
  const response = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: `{"model":"m","messages":[]}`,
  });
  assert.equal(response.status, 200);
  assert.equal(await response.text(), json);
});

Deno.test("a 25 MiB transcription upload passes the default body limit and reaches the backend whole", async () => {
  await using t = await gatewayOverBackend((url) => `
model:
  services:
    stt:
      instances:
        - name: whisper
          base-url: ${url}
`);
  // OpenAI's own limit for an audio file, with the multipart framing on top.
  const audio = Uint8Array.from({ length: 25 * 1024 * 1024 }, (_, i) => (i * 31) % 251);
  const form = new FormData();
  form.append("model", "whisper");
  form.append("file", new File([audio], "long.mp3", { type: "audio/mpeg" }));
  const response = await fetch(`${t.gateway.url}/v1/audio/transcriptions`, {
    method: "POST",
    body: form,
  });
  const text = await response.text();
  assert.equal(response.status, 200, text);
  const { fields } = JSON.parse(text);
  assert.equal(fields.file.size, audio.byteLength);
  assert.equal(fields.file.sha256, await sha256(audio));
});

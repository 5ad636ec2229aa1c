/**
 * Every service end to end through the official `openai` SDK: gateway → fake backend → back.
 */
import assert from "node:assert/strict";
import OpenAI, { toFile } from "openai";
import { type FakeBackend, startFakeBackend } from "./fixtures/fake_backend.ts";
import { startGateway, type TestGateway } from "./fixtures/gateway.ts";
import { sha256, SPEECH_BYTES } from "./fixtures/openai_answers.ts";

/** A gateway with one fake backend serving a model on every service. */
async function setup(): Promise<
  { backend: FakeBackend; gateway: TestGateway; client: OpenAI } & AsyncDisposable
> {
  const backend = await startFakeBackend({ name: "solo" });
  const services = ["chat", "embedding", "rerank", "tts", "stt", "imgGen", "imgEdit"];
  const gateway = await startGateway(`
model:
  services:
${
    services.map((service) => `
    ${service}:
      instances:
        - name: m-${service}
          base-url: ${backend.url}`).join("")
  }
`);
  const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: "sk-test", maxRetries: 0 });
  return {
    backend,
    gateway,
    client,
    async [Symbol.asyncDispose]() {
      await gateway.close();
      await backend.close();
    },
  };
}

Deno.test("chat completion through the SDK reaches the backend and comes back", async () => {
  await using t = await setup();
  const completion = await t.client.chat.completions.create({
    model: "m-chat",
    messages: [{ role: "user", content: "hi" }],
  });
  assert.equal(completion.choices[0]?.message.content, "hello from solo");
  const [request] = t.backend.requests;
  assert.equal(request?.method, "POST");
  assert.equal(request?.path, "/v1/chat/completions");
  const sent = JSON.parse(new TextDecoder().decode(request!.body));
  assert.deepEqual(sent, { model: "m-chat", messages: [{ role: "user", content: "hi" }] });
});

Deno.test("completions go to the chat instances' /v1/completions without a completion service", async () => {
  await using t = await setup();
  const completion = await t.client.completions.create({ model: "m-chat", prompt: "Once" });
  assert.equal(completion.choices[0]?.text, "completed by solo");
  assert.equal(t.backend.requests[0]?.path, "/v1/completions");
});

Deno.test("embeddings through the SDK", async () => {
  await using t = await setup();
  const result = await t.client.embeddings.create({
    model: "m-embedding",
    input: ["a", "b"],
    encoding_format: "float",
  });
  assert.deepEqual(result.data[0]?.embedding, [0.25, -0.5, 1]);
  assert.equal(t.backend.requests[0]?.path, "/v1/embeddings");
});

Deno.test("rerank with plain fetch (the SDK has no rerank)", async () => {
  await using t = await setup();
  const response = await fetch(`${t.gateway.url}/v1/rerank`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "m-rerank", query: "q", documents: ["x", "y"] }),
  });
  assert.equal(response.status, 200);
  const body = await response.json();
  assert.deepEqual(body.results[0], { index: 1, relevance_score: 0.9 });
  assert.equal(t.backend.requests[0]?.path, "/v1/rerank");
});

Deno.test("speech audio comes back byte for byte", async () => {
  await using t = await setup();
  const response = await t.client.audio.speech.create({
    model: "m-tts",
    input: "Hello",
    voice: "alloy",
  });
  assert.equal(response.headers.get("content-type"), "audio/mpeg");
  const audio = new Uint8Array(await response.arrayBuffer());
  assert.deepEqual(audio, SPEECH_BYTES);
  assert.equal(t.backend.requests[0]?.path, "/v1/audio/speech");
});

Deno.test("transcription upload reaches the backend with identical file bytes and the model", async () => {
  await using t = await setup();
  const audio = Uint8Array.from({ length: 70_001 }, (_, i) => (i * 7) % 251);
  const result = await t.client.audio.transcriptions.create({
    model: "m-stt",
    file: await toFile(audio, "speech.wav", { type: "audio/wav" }),
    language: "en",
  });
  assert.equal(result.text, "transcribed by solo");
  const fields = (result as unknown as { fields: Record<string, unknown> }).fields;
  assert.equal(fields.model, "m-stt");
  assert.equal(fields.language, "en");
  assert.deepEqual(fields.file, {
    filename: "speech.wav",
    type: "audio/wav",
    size: audio.byteLength,
    sha256: await sha256(audio),
  });
  assert.equal(t.backend.requests[0]?.path, "/v1/audio/transcriptions");
});

Deno.test("image generation through the SDK", async () => {
  await using t = await setup();
  const result = await t.client.images.generate({ model: "m-imgGen", prompt: "a cat", n: 1 });
  assert.equal(result.data?.[0]?.url, "http://images.invalid/solo");
  assert.equal(t.backend.requests[0]?.path, "/v1/images/generations");
});

Deno.test("image edit uploads image and mask unchanged", async () => {
  await using t = await setup();
  const image = Uint8Array.from({ length: 20_000 }, (_, i) => i % 256);
  const mask = Uint8Array.from({ length: 5_000 }, (_, i) => 255 - (i % 256));
  const result = await t.client.images.edit({
    model: "m-imgEdit",
    image: await toFile(image, "image.png", { type: "image/png" }),
    mask: await toFile(mask, "mask.png", { type: "image/png" }),
    prompt: "add a hat",
  });
  assert.equal(result.data?.[0]?.url, "http://images.invalid/solo/edit");
  const fields = (result as unknown as { fields: Record<string, unknown> }).fields;
  assert.equal(fields.model, "m-imgEdit");
  assert.equal(fields.prompt, "add a hat");
  assert.deepEqual(fields.image, {
    filename: "image.png",
    type: "image/png",
    size: image.byteLength,
    sha256: await sha256(image),
  });
  assert.deepEqual(fields.mask, {
    filename: "mask.png",
    type: "image/png",
    size: mask.byteLength,
    sha256: await sha256(mask),
  });
  assert.equal(t.backend.requests[0]?.path, "/v1/images/edits");
});

Deno.test("a base-url with a path prefix keeps it, and a completion service is used when configured", async () => {
  await using chat = await startFakeBackend({ name: "chat" });
  await using legacy = await startFakeBackend({ name: "legacy" });
  await using gateway = await startGateway(`
model:
  services:
    chat:
      instances:
        - name: m
          base-url: ${chat.url}/gpu1/
    completion:
      instances:
        - name: m
          base-url: ${legacy.url}
          path: /engine/completions
`);
  const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: "sk-test", maxRetries: 0 });
  await client.chat.completions.create({ model: "m", messages: [] });
  assert.equal(chat.requests[0]?.path, "/gpu1/v1/chat/completions");
  const completion = await client.completions.create({ model: "m", prompt: "x" });
  assert.equal(completion.choices[0]?.text, "completed by legacy");
  assert.equal(legacy.requests[0]?.path, "/engine/completions");
  assert.equal(chat.requests.length, 1);
});

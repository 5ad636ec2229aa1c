/**
 * Against llama.cpp's own `llama-server`: a discovering `llamacpp` instance learns from `/props`
 * the context a request gets and that no projector gives it vision, so an image, or a prompt
 * longer than that context, is refused without reaching the server.
 */
import assert from "node:assert/strict";
import { eventually } from "./fixtures/gate.ts";
import { gatewayOverLlamaServer, LLAMA_MODEL, llamaServerTest } from "./fixtures/llama_server.ts";

llamaServerTest("a discovering instance learns the slot context and modalities", async (build) => {
  await using running = await gatewayOverLlamaServer(build, {
    config: (url) =>
      `model:
  services:
    chat:
      instances:
        - { name: ${LLAMA_MODEL}, base-url: "${url}", adapter: llamacpp, discover: true }
`,
  });
  const { gateway } = running;
  await eventually(async () => {
    const status = await (await fetch(`${gateway.url}/v1/chat/status`)).json();
    // The fixture starts the server with a context of 2048 in one slot.
    assert.deepEqual(status.instances[0].learnedCapabilities, {
      [LLAMA_MODEL]: { context: 2048, vision: false, audio: false },
    });
  }, 5_000);
  const post = async (body: unknown) => {
    const response = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: await response.json() };
  };
  const image = await post({
    model: LLAMA_MODEL,
    messages: [{
      role: "user",
      content: [{ type: "image_url", image_url: { url: "https://example.com/a.png" } }],
    }],
  });
  assert.equal(image.status, 400);
  assert.equal(image.body.error.code, "missing_capability");
  assert.match(image.body.error.message, /no instance with vision/);
  const long = await post({
    model: LLAMA_MODEL,
    messages: [{ role: "user", content: "word ".repeat(2_000) }],
  });
  assert.equal(long.status, 400);
  assert.match(long.body.error.message, /the largest is 2048\)$/);
  const short = await post({
    model: LLAMA_MODEL,
    max_tokens: 2,
    messages: [{ role: "user", content: "Hi" }],
  });
  assert.equal(short.status, 200);
  assert.equal(short.body.usage.completion_tokens, 2);
});

import assert from "node:assert/strict";
import type { ClientBody } from "./body.ts";
import { BYTES_PER_TOKEN, needsOf } from "./needs.ts";

const encoder = new TextEncoder();

function jsonBody(json: Record<string, unknown>): ClientBody {
  const bytes = encoder.encode(JSON.stringify(json));
  return { bytes, contentType: "application/json", model: "m", stream: false, json };
}

Deno.test("a plain chat request needs no feature, and room for its bytes / 4", () => {
  const body = jsonBody({ model: "m", messages: [{ role: "user", content: "Hello there" }] });
  assert.deepEqual(needsOf(body), {
    vision: false,
    tools: false,
    audio: false,
    promptTokens: Math.ceil(body.bytes.byteLength / BYTES_PER_TOKEN),
    maxTokens: undefined,
  });
});

Deno.test("images need vision in chat, Messages and Responses bodies", () => {
  const bodies = [
    {
      messages: [{
        role: "user",
        content: [{ type: "image_url", image_url: { url: "https://x/a.png" } }],
      }],
    },
    {
      messages: [{
        role: "user",
        content: [{ type: "image", source: { type: "url", url: "https://x/a.png" } }],
      }],
    },
    { input: [{ role: "user", content: [{ type: "input_image", image_url: "https://x/a.png" }] }] },
    { input: [{ type: "input_image", image_url: "https://x/a.png" }] },
    // An image inside an Anthropic tool result.
    {
      messages: [{
        role: "user",
        content: [{
          type: "tool_result",
          tool_use_id: "t",
          content: [{ type: "image", source: { type: "base64", data: "iVBO" } }],
        }],
      }],
    },
  ];
  for (const body of bodies) {
    assert.equal(needsOf(jsonBody({ model: "m", ...body })).vision, true, JSON.stringify(body));
  }
  assert.equal(needsOf(jsonBody({ model: "m", input: "an image_url" })).vision, false);
});

Deno.test("tools and functions need tools; an empty list needs nothing", () => {
  const tool = { type: "function", function: { name: "f" } };
  assert.equal(needsOf(jsonBody({ model: "m", tools: [tool] })).tools, true);
  assert.equal(needsOf(jsonBody({ model: "m", functions: [{ name: "f" }] })).tools, true);
  assert.equal(needsOf(jsonBody({ model: "m", tools: [] })).tools, false);
});

Deno.test("input audio, or an answer asked in audio, needs audio", () => {
  const audio = {
    model: "m",
    messages: [{
      role: "user",
      content: [{ type: "input_audio", input_audio: { data: "UklGR", format: "wav" } }],
    }],
  };
  assert.equal(needsOf(jsonBody(audio)).audio, true);
  assert.equal(needsOf(jsonBody({ model: "m", modalities: ["text", "audio"] })).audio, true);
  assert.equal(needsOf(jsonBody({ model: "m", modalities: ["text"] })).audio, false);
});

Deno.test("inline image and audio data do not count as prompt tokens", () => {
  const data = "A".repeat(40_000);
  const withImage = needsOf(jsonBody({
    model: "m",
    messages: [{
      role: "user",
      content: [
        { type: "image_url", image_url: { url: `data:image/png;base64,${data}` } },
        { type: "image", source: { type: "base64", media_type: "image/png", data } },
        { type: "input_image", image_url: `data:image/png;base64,${data}` },
        { type: "input_audio", input_audio: { data, format: "wav" } },
      ],
    }],
  }));
  assert.ok(withImage.promptTokens < 100, `${withImage.promptTokens} tokens`);
  const linked = needsOf(jsonBody({
    model: "m",
    messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "https://x" } }] }],
  }));
  assert.ok(linked.promptTokens > 0);
});

Deno.test("max_tokens, max_completion_tokens and max_output_tokens are the answer's room", () => {
  assert.equal(needsOf(jsonBody({ model: "m", max_tokens: 300 })).maxTokens, 300);
  assert.equal(needsOf(jsonBody({ model: "m", max_completion_tokens: 200 })).maxTokens, 200);
  assert.equal(needsOf(jsonBody({ model: "m", max_output_tokens: 100 })).maxTokens, 100);
  assert.equal(needsOf(jsonBody({ model: "m", max_tokens: "many" })).maxTokens, undefined);
  const second = { model: "m", max_tokens: "many", max_completion_tokens: 7 };
  assert.equal(needsOf(jsonBody(second)).maxTokens, 7);
  // An answer of no tokens (a completion that scores its prompt) is a limit too.
  const none = { model: "m", max_tokens: 0, max_completion_tokens: 7 };
  assert.equal(needsOf(jsonBody(none)).maxTokens, 0);
});

Deno.test("an upload needs nothing", () => {
  const body: ClientBody = {
    bytes: new Uint8Array(1_000_000),
    contentType: "multipart/form-data; boundary=b",
    model: "whisper",
    stream: false,
    json: undefined,
  };
  assert.deepEqual(needsOf(body), {
    vision: false,
    tools: false,
    audio: false,
    promptTokens: 0,
    maxTokens: undefined,
  });
});

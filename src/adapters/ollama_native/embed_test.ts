import assert from "node:assert/strict";
import { assertBadAnswer, assertRefused } from "./_testing.ts";
import { embedEncodingOf, fromOllamaEmbed, toOllamaEmbed } from "./embed.ts";

const embed = (fields: Record<string, unknown>) =>
  toOllamaEmbed({ model: "nomic-embed-text", input: "Hello", ...fields });

Deno.test("toOllamaEmbed maps input without inventing a field or a stream", () => {
  assert.deepEqual(embed({}), { model: "nomic-embed-text", input: "Hello" });
  assert.deepEqual(embed({ input: ["a", "b"] }).input, ["a", "b"]);
});

Deno.test("toOllamaEmbed maps dimensions and passes Ollama's own fields", () => {
  assert.deepEqual(
    embed({ dimensions: 256, truncate: false, keep_alive: "1m", options: { num_ctx: 512 } }),
    {
      model: "nomic-embed-text",
      input: "Hello",
      dimensions: 256,
      truncate: false,
      keep_alive: "1m",
      options: { num_ctx: 512 },
    },
  );
  assertRefused(() => embed({ dimensions: 0 }), "invalid_request", "dimensions");
  assertRefused(() => embed({ dimensions: "8" }), "invalid_request", "dimensions");
  assertRefused(() => embed({ truncate: "no" }), "invalid_request", "truncate");
});

Deno.test("toOllamaEmbed refuses token arrays and malformed input", () => {
  assertRefused(() => embed({ input: [1, 2] }), "unsupported_parameter", "input");
  assertRefused(() => embed({ input: [[1], [2]] }), "unsupported_parameter", "input");
  assertRefused(() => embed({ input: [] }), "invalid_request", "input");
  assertRefused(() => embed({ input: ["a", 1] }), "invalid_request", "input");
  assertRefused(() => embed({ input: { text: "a" } }), "invalid_request", "input");
  assertRefused(() => toOllamaEmbed({ model: "m" }), "invalid_request", "input");
  assertRefused(() => toOllamaEmbed({ input: "a" }), "invalid_request", "model");
});

Deno.test("toOllamaEmbed checks encoding_format and leaves it to the answer", () => {
  assert.equal("encoding_format" in embed({ encoding_format: "base64" }), false);
  assert.equal("encoding_format" in embed({ encoding_format: "float" }), false);
  assertRefused(() => embed({ encoding_format: "int8" }), "invalid_request", "encoding_format");
  assert.equal(embedEncodingOf({ input: "a" }), "float");
  assert.equal(embedEncodingOf({ encoding_format: null }), "float");
  assert.equal(embedEncodingOf({ encoding_format: "float" }), "float");
  assert.equal(embedEncodingOf({ encoding_format: "base64" }), "base64");
  assertRefused(
    () => embedEncodingOf({ encoding_format: 1 }),
    "invalid_request",
    "encoding_format",
  );
});

Deno.test("toOllamaEmbed refuses every field Ollama cannot honour, naming it", () => {
  for (const field of ["user", "stream", "temperature"]) {
    const error = assertRefused(() => embed({ [field]: "x" }), "unsupported_parameter", field);
    assert.match(error.message, /Ollama's native \/api\/embed/);
    assert.match(error.message, /\(\/v1\/embeddings\) passes it through/);
  }
});

const answer = {
  model: "nomic-embed-text:latest",
  embeddings: [[0.5, -1], [0.25, 2]],
  total_duration: 1000,
  prompt_eval_count: 6,
};

Deno.test("fromOllamaEmbed maps an answer to an embeddings list", () => {
  assert.deepEqual(fromOllamaEmbed(answer, { model: "asked", encodingFormat: "float" }), {
    object: "list",
    data: [
      { object: "embedding", index: 0, embedding: [0.5, -1] },
      { object: "embedding", index: 1, embedding: [0.25, 2] },
    ],
    model: "nomic-embed-text:latest",
    usage: { prompt_tokens: 6, total_tokens: 6 },
  });
  const bare = fromOllamaEmbed({ embeddings: [] }, { model: "asked", encodingFormat: "float" });
  assert.deepEqual(bare, {
    object: "list",
    data: [],
    model: "asked",
    usage: { prompt_tokens: 0, total_tokens: 0 },
  });
});

Deno.test("fromOllamaEmbed encodes base64 as little-endian float32, as OpenAI does", () => {
  const list = fromOllamaEmbed(answer, { model: "asked", encodingFormat: "base64" });
  const data = list.data as { embedding: string }[];
  // 0.5 = 0x3f000000 and -1 = 0xbf800000, low byte first.
  const expected = btoa(String.fromCharCode(0, 0, 0, 0x3f, 0, 0, 0x80, 0xbf));
  assert.equal(data[0]!.embedding, expected);
  const bytes = Uint8Array.from(atob(data[1]!.embedding), (c) => c.charCodeAt(0));
  assert.deepEqual([...new Float32Array(bytes.buffer)], [0.25, 2]);
});

Deno.test("fromOllamaEmbed refuses answers of the wrong shape with 502", () => {
  const context = { model: "m", encodingFormat: "float" } as const;
  assertBadAnswer(() => fromOllamaEmbed("x", context));
  assertBadAnswer(() => fromOllamaEmbed({ embedding: [1, 2] }, context));
  assertBadAnswer(() => fromOllamaEmbed({ embeddings: [1, 2] }, context));
  assertBadAnswer(() => fromOllamaEmbed({ embeddings: [["1"]] }, context));
  assertBadAnswer(() => fromOllamaEmbed({ embeddings: [], model: 1 }, context));
  assertBadAnswer(() => fromOllamaEmbed({ embeddings: [], prompt_eval_count: "1" }, context));
});

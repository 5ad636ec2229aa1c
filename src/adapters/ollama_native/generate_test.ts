import assert from "node:assert/strict";
import { assertBadAnswer, assertRefused } from "./_testing.ts";
import { fromOllamaGenerate, toOllamaGenerate } from "./generate.ts";

const generate = (fields: Record<string, unknown>) =>
  toOllamaGenerate({ model: "llama3", prompt: "Once upon", ...fields });
const context = { id: "cmpl-xyz", created: 1700000000, model: "asked" };

Deno.test("toOllamaGenerate maps a minimal request without inventing a field", () => {
  assert.deepEqual(generate({}), { model: "llama3", prompt: "Once upon", stream: false });
  assert.equal(generate({ stream: true }).stream, true);
});

Deno.test("toOllamaGenerate takes one prompt, alone or in an array", () => {
  assert.equal(generate({ prompt: ["Alone"] }).prompt, "Alone");
  assert.equal(generate({ prompt: "" }).prompt, "");
  assertRefused(() => generate({ prompt: ["One", "Two"] }), "unsupported_parameter", "prompt");
  assertRefused(() => generate({ prompt: [1, 2, 3] }), "unsupported_parameter", "prompt");
  assertRefused(() => generate({ prompt: [[1, 2], [3]] }), "unsupported_parameter", "prompt");
  assertRefused(() => generate({ prompt: [] }), "invalid_request", "prompt");
  assertRefused(() => generate({ prompt: ["a", 1] }), "invalid_request", "prompt");
  assertRefused(() => generate({ prompt: 3 }), "invalid_request", "prompt");
  assertRefused(() => toOllamaGenerate({ model: "m" }), "invalid_request", "prompt");
  assertRefused(() => toOllamaGenerate({ prompt: "p" }), "invalid_request", "model");
});

Deno.test("toOllamaGenerate maps suffix and sampling fields", () => {
  assert.deepEqual(
    generate({
      suffix: "The end",
      max_tokens: 32,
      temperature: 0,
      top_p: 1,
      seed: 42,
      frequency_penalty: 0.5,
      presence_penalty: 0.25,
      stop: ["\n\n"],
    }),
    {
      model: "llama3",
      prompt: "Once upon",
      suffix: "The end",
      options: {
        num_predict: 32,
        temperature: 0,
        top_p: 1,
        seed: 42,
        frequency_penalty: 0.5,
        presence_penalty: 0.25,
        stop: ["\n\n"],
      },
      stream: false,
    },
  );
  assert.deepEqual(generate({ stop: "." }).options, { stop: ["."] });
  assertRefused(() => generate({ suffix: 1 }), "invalid_request", "suffix");
  assertRefused(() => generate({ max_tokens: "9" }), "invalid_request", "max_tokens");
});

Deno.test("toOllamaGenerate passes Ollama's own fields through, options merged", () => {
  const body = generate({
    keep_alive: -1,
    raw: true,
    format: "json",
    think: false,
    options: { num_ctx: 2048, seed: 1 },
    seed: 2,
  });
  assert.equal(body.keep_alive, -1);
  assert.equal(body.raw, true);
  assert.equal(body.format, "json");
  assert.equal(body.think, false);
  assert.deepEqual(body.options, { num_ctx: 2048, seed: 2 });
  assertRefused(() => generate({ raw: "yes" }), "invalid_request", "raw");
});

Deno.test("toOllamaGenerate accepts stream_options with a stream only", () => {
  assert.equal(generate({ stream: true, stream_options: { include_usage: false } }).stream, true);
  assertRefused(
    () => generate({ stream_options: { include_usage: true } }),
    "invalid_request",
    "stream_options",
  );
});

Deno.test("toOllamaGenerate accepts the defaults of n, best_of and echo only", () => {
  assert.deepEqual(generate({ n: 1, best_of: 1, echo: false, logprobs: null }), {
    model: "llama3",
    prompt: "Once upon",
    stream: false,
  });
  assertRefused(() => generate({ n: 3 }), "unsupported_parameter", "n");
  assertRefused(() => generate({ best_of: 2 }), "unsupported_parameter", "best_of");
  assertRefused(() => generate({ echo: true }), "unsupported_parameter", "echo");
});

Deno.test("toOllamaGenerate refuses every field Ollama cannot honour, naming it", () => {
  const fields = { logprobs: 0, logit_bias: { "1": 1 }, user: "u", messages: [], tools: [] };
  for (const [field, value] of Object.entries(fields)) {
    const error = assertRefused(() => generate({ [field]: value }), "unsupported_parameter", field);
    assert.match(error.message, /Ollama's native \/api\/generate/);
    assert.match(error.message, /\(\/v1\/completions\) passes it through/);
  }
});

Deno.test("fromOllamaGenerate maps an answer to a text_completion", () => {
  const answer = {
    model: "llama3",
    created_at: "2024-01-01T00:00:00Z",
    response: " a time",
    done: true,
    done_reason: "stop",
    context: [1, 2, 3],
    prompt_eval_count: 4,
    eval_count: 2,
  };
  assert.deepEqual(fromOllamaGenerate(answer, context), {
    id: "cmpl-xyz",
    object: "text_completion",
    created: 1700000000,
    model: "llama3",
    choices: [{ index: 0, text: " a time", finish_reason: "stop", logprobs: null }],
    usage: { prompt_tokens: 4, completion_tokens: 2, total_tokens: 6 },
  });
});

Deno.test("fromOllamaGenerate reports length, thinking and the asked model", () => {
  const answer = fromOllamaGenerate(
    { response: "x", thinking: "hmm", done: true, done_reason: "length" },
    context,
  );
  assert.equal(answer.model, "asked");
  assert.deepEqual(answer.choices, [
    { index: 0, text: "x", reasoning_content: "hmm", finish_reason: "length", logprobs: null },
  ]);
  assert.deepEqual(answer.usage, { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 });
});

Deno.test("fromOllamaGenerate refuses answers of the wrong shape with 502", () => {
  assertBadAnswer(() => fromOllamaGenerate([], context));
  assertBadAnswer(() => fromOllamaGenerate({ message: { content: "x" } }, context));
  assertBadAnswer(() => fromOllamaGenerate({ response: 1 }, context));
  assertBadAnswer(() => fromOllamaGenerate({ response: "", thinking: 1 }, context));
  assertBadAnswer(() => fromOllamaGenerate({ response: "", done_reason: 1 }, context));
  assertBadAnswer(() => fromOllamaGenerate({ response: "", eval_count: 1.5 }, context));
});

import assert from "node:assert/strict";
import { findUsage } from "./usage.ts";

const encoder = new TextEncoder();
const usageOf = (text: string) => findUsage(encoder.encode(text));

Deno.test("usage is read from a chat completion's JSON body", () => {
  const body = JSON.stringify({
    id: "x",
    choices: [{ message: { content: 'the word "usage": {"prompt_tokens": 99}' } }],
    usage: { prompt_tokens: 12, completion_tokens: 34, total_tokens: 46 },
  });
  assert.deepEqual(usageOf(body), { input: 12, output: 34 });
});

Deno.test("usage is read from the last events of a stream, past chunks with null usage", () => {
  const events = [
    `data: {"choices":[{"delta":{"content":"a"}}],"usage":null}\n\n`,
    `data: {"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2,` +
    `"prompt_tokens_details":{"cached_tokens":1}}}\n\n`,
    "data: [DONE]\n\n",
  ];
  assert.deepEqual(usageOf(events.join("")), { input: 5, output: 2 });
  assert.equal(usageOf(events[0]! + events[2]!), undefined, "null usage is no usage");
});

Deno.test("input_tokens and output_tokens count; total_tokens alone counts as input", () => {
  assert.deepEqual(usageOf('{"usage":{"input_tokens":7,"output_tokens":8}}'), {
    input: 7,
    output: 8,
  });
  assert.deepEqual(usageOf('{"usage" : { "total_tokens" : 9 }}'), { input: 9, output: 0 });
  assert.deepEqual(usageOf('{"usage":{"prompt_tokens":4,"total_tokens":4}}'), {
    input: 4,
    output: 0,
  });
});

Deno.test("every kind of value in a usage object is stepped over", () => {
  const usage = {
    note: 'text with "quotes", {braces} and [brackets] \\ and \u00e9',
    prompt_tokens_details: { cached_tokens: 3, audio: [1, { x: "}" }] },
    flags: [true, false, null],
    prompt_tokens: 21,
    ratio: -1.5e3,
    completion_tokens: 13,
  };
  assert.deepEqual(usageOf(JSON.stringify({ usage })), { input: 21, output: 13 });
  assert.deepEqual(usageOf(JSON.stringify({ usage }, null, "\t")), { input: 21, output: 13 });
  assert.deepEqual(usageOf(JSON.stringify({ usage }, null, 2).replaceAll("\n", "\r\n")), {
    input: 21,
    output: 13,
  });
});

Deno.test("counts written with a fraction or exponent count when they are whole", () => {
  assert.deepEqual(usageOf('{"usage":{"prompt_tokens":4.0,"completion_tokens":2e1}}'), {
    input: 4,
    output: 20,
  });
  assert.deepEqual(usageOf('{"usage":{"prompt_tokens":4.5,"completion_tokens":3}}'), {
    input: 0,
    output: 3,
  });
});

Deno.test("text in other scripts before the usage does not confuse the byte search", () => {
  const body = JSON.stringify({
    choices: [{ message: { content: "你好，世界 🌍 \u201cusage\u201d: {\u2026}" } }],
    usage: { prompt_tokens: 6, completion_tokens: 11 },
  });
  assert.deepEqual(usageOf(body), { input: 6, output: 11 });
});

Deno.test("the word usage as a value, or after its key as text, is not the usage", () => {
  assert.deepEqual(
    usageOf('{"usage":{"prompt_tokens":1},"kind":"usage","tags":["usage"]}'),
    { input: 1, output: 0 },
  );
  assert.equal(usageOf('{"kind":"usage"}'), undefined);
});

Deno.test("no usage, a cut-off one, or one without counts is none", () => {
  assert.equal(usageOf('{"id":"x"}'), undefined);
  assert.equal(usageOf('{"usage":{"prompt_tokens":4'), undefined);
  assert.equal(usageOf('{"usage":{"prompt_tokens":4,"details":{"a":"}'), undefined);
  assert.equal(usageOf('{"usage":{"type":"duration","seconds":3}}'), undefined);
  assert.equal(usageOf('{"usage":{"prompt_tokens":-1}}'), undefined);
  assert.equal(usageOf('{"usage":{"prompt_tokens":"12"}}'), undefined);
  assert.equal(usageOf('{"usage":{"prompt_tokens" 12}}'), undefined);
  assert.equal(usageOf('{"usage":{}}'), undefined);
  assert.equal(usageOf('{"note":"a \\"usage\\": {} inside a string"}'), undefined);
  assert.equal(usageOf('"usage"'), undefined);
  assert.equal(usageOf(""), undefined);
});

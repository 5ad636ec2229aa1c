import assert from "node:assert/strict";
import { findUsage } from "./usage.ts";

Deno.test("usage is read from a chat completion's JSON body", () => {
  const body = JSON.stringify({
    id: "x",
    choices: [{ message: { content: 'the word "usage": {"prompt_tokens": 99}' } }],
    usage: { prompt_tokens: 12, completion_tokens: 34, total_tokens: 46 },
  });
  assert.deepEqual(findUsage(body), { input: 12, output: 34 });
});

Deno.test("usage is read from the last events of a stream, past chunks with null usage", () => {
  const events = [
    `data: {"choices":[{"delta":{"content":"a"}}],"usage":null}\n\n`,
    `data: {"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2,` +
    `"prompt_tokens_details":{"cached_tokens":1}}}\n\n`,
    "data: [DONE]\n\n",
  ];
  assert.deepEqual(findUsage(events.join("")), { input: 5, output: 2 });
  assert.equal(findUsage(events[0]! + events[2]!), undefined, "null usage is no usage");
});

Deno.test("input_tokens and output_tokens count; total_tokens alone counts as input", () => {
  assert.deepEqual(findUsage('{"usage":{"input_tokens":7,"output_tokens":8}}'), {
    input: 7,
    output: 8,
  });
  assert.deepEqual(findUsage('{"usage" : { "total_tokens" : 9 }}'), { input: 9, output: 0 });
  assert.deepEqual(findUsage('{"usage":{"prompt_tokens":4,"total_tokens":4}}'), {
    input: 4,
    output: 0,
  });
});

Deno.test("no usage, a cut-off one, or one without counts is none", () => {
  assert.equal(findUsage('{"id":"x"}'), undefined);
  assert.equal(findUsage('{"usage":{"prompt_tokens":4'), undefined);
  assert.equal(findUsage('{"usage":{"type":"duration","seconds":3}}'), undefined);
  assert.equal(findUsage('{"usage":{"prompt_tokens":-1}}'), undefined);
  assert.equal(findUsage('{"note":"a \\"usage\\": {} inside a string"}'), undefined);
  assert.equal(findUsage(""), undefined);
});

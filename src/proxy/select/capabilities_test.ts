import assert from "node:assert/strict";
import type { RequestNeeds } from "../request/needs.ts";
import { canServe, missingCapability } from "./capabilities.ts";

const NOTHING: RequestNeeds = {
  vision: false,
  tools: false,
  audio: false,
  promptTokens: 10,
  maxTokens: undefined,
};

Deno.test("an instance lacking nothing the request needs can serve it", () => {
  assert.equal(canServe(undefined, { ...NOTHING, vision: true, tools: true }), true);
  assert.equal(canServe({}, { ...NOTHING, audio: true, promptTokens: 1e9 }), true);
  assert.equal(canServe({ vision: false, tools: false }, NOTHING), true);
  assert.equal(canServe({ vision: true }, { ...NOTHING, vision: true }), true);
});

Deno.test("an instance known to lack a needed feature cannot serve", () => {
  assert.equal(canServe({ vision: false }, { ...NOTHING, vision: true }), false);
  assert.equal(canServe({ tools: false }, { ...NOTHING, tools: true }), false);
  assert.equal(canServe({ audio: false }, { ...NOTHING, audio: true }), false);
});

Deno.test("prompt and answer together must fit the context", () => {
  assert.equal(canServe({ context: 100 }, { ...NOTHING, promptTokens: 60, maxTokens: 40 }), true);
  assert.equal(canServe({ context: 100 }, { ...NOTHING, promptTokens: 60, maxTokens: 41 }), false);
  assert.equal(canServe({ context: 100 }, { ...NOTHING, promptTokens: 101 }), false);
});

Deno.test("the refusal names the capability no instance has, and the model", () => {
  const error = missingCapability("llama", { ...NOTHING, vision: true, tools: true }, [
    { vision: false, tools: true },
    { vision: false },
  ]);
  assert.equal(error.status, 400);
  assert.equal(error.code, "missing_capability");
  assert.equal(error.type, "invalid_request_error");
  assert.equal(
    error.message,
    'Model "llama" has no instance with vision (the request carries an image)',
  );
});

Deno.test("the refusal names the context needed and the largest there is", () => {
  const error = missingCapability("m", { ...NOTHING, promptTokens: 3000, maxTokens: 1000 }, [
    { context: 2048 },
    { context: 4000 - 1 },
  ]);
  assert.equal(
    error.message,
    'Model "m" has no instance with a context of 4000 tokens (about 3000 in the prompt and ' +
      "up to 1000 in the answer; the largest is 3999)",
  );
});

Deno.test("when each need is met somewhere but none meets all, the refusal names them together", () => {
  const error = missingCapability("m", { ...NOTHING, vision: true, promptTokens: 5000 }, [
    { vision: false },
    { vision: true, context: 4096 },
  ]);
  assert.equal(
    error.message,
    'Model "m" has no instance with vision (the request carries an image) and a context of ' +
      "5000 tokens (about 5000 in the prompt) together",
  );
});

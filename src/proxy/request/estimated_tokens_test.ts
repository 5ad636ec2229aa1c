import assert from "node:assert/strict";
import type { ClientBody } from "./body.ts";
import { DEFAULT_ANSWER_TOKENS, estimatedTokenParts } from "./estimated_tokens.ts";

function estimatedTokens(body: ClientBody): number {
  const { input, output } = estimatedTokenParts(body);
  return input + output;
}

function body(json: Record<string, unknown> | undefined, bytes = 400): ClientBody {
  return {
    bytes: new Uint8Array(bytes),
    contentType: "application/json",
    model: "m",
    stream: false,
    json,
  };
}

Deno.test("estimated tokens: the prompt's bytes over four, plus the answer limit", () => {
  assert.equal(estimatedTokens(body({ max_tokens: 1_000 })), 1_100);
  assert.equal(estimatedTokens(body({ max_completion_tokens: 50 })), 150);
  assert.equal(estimatedTokens(body({ max_output_tokens: 10 }, 41)), 21);
});

Deno.test("estimated tokens: a request without a limit counts a default answer", () => {
  assert.equal(estimatedTokens(body({})), 100 + DEFAULT_ANSWER_TOKENS);
  assert.equal(estimatedTokens(body({ max_tokens: "many" })), 100 + DEFAULT_ANSWER_TOKENS);
});

Deno.test("estimated tokens: an upload counts none", () => {
  assert.equal(estimatedTokens(body(undefined, 1_000_000)), 0);
});

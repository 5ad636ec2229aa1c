import assert from "node:assert/strict";
import type { ClientBody } from "./body.ts";
import { DEFAULT_ANSWER_TOKENS, estimatedTokenParts } from "./estimated_tokens.ts";
import { BYTES_PER_TOKEN, needsOf } from "./needs.ts";

function estimatedTokens(body: ClientBody): number {
  const { input, output } = estimatedTokenParts(body, needsOf(body));
  return input + output;
}

/** A JSON body of `json`, padded with spaces to `bytes` bytes. */
function body(json: Record<string, unknown> | undefined, bytes = 400): ClientBody {
  const text = JSON.stringify(json ?? {});
  return {
    bytes: new TextEncoder().encode(text.padEnd(bytes)),
    contentType: json === undefined ? "multipart/form-data; boundary=b" : "application/json",
    model: "m",
    stream: false,
    json,
  };
}

Deno.test("estimated tokens: the prompt's bytes over four, plus the answer limit", () => {
  assert.equal(estimatedTokens(body({ max_tokens: 1_000 })), 1_100);
  assert.equal(estimatedTokens(body({ max_completion_tokens: 50 })), 150);
  assert.equal(estimatedTokens(body({ max_output_tokens: 10 }, 41)), 21);
  assert.equal(estimatedTokens(body({ max_tokens: 0 })), 100, "a completion that only scores");
});

Deno.test("estimated tokens: a request without a limit counts a default answer", () => {
  assert.equal(estimatedTokens(body({})), 100 + DEFAULT_ANSWER_TOKENS);
  assert.equal(estimatedTokens(body({ max_tokens: "many" })), 100 + DEFAULT_ANSWER_TOKENS);
  assert.equal(estimatedTokens(body({ max_tokens: "many", max_completion_tokens: 7 })), 107);
});

Deno.test("estimated tokens: an inline image's data is not prompt text", () => {
  const image = `data:image/png;base64,${"A".repeat(400_000)}`;
  const json = {
    max_tokens: 10,
    messages: [{
      role: "user",
      content: [{ type: "text", text: "what is this" }, {
        type: "image_url",
        image_url: { url: image },
      }],
    }],
  };
  const bytes = JSON.stringify(json).length;
  const { input } = estimatedTokenParts(body(json, bytes), needsOf(body(json, bytes)));
  assert.equal(input, Math.ceil((bytes - image.length) / BYTES_PER_TOKEN));
  assert.ok(input < 100, String(input));
});

Deno.test("estimated tokens: an upload counts none", () => {
  assert.equal(estimatedTokens(body(undefined, 1_000_000)), 0);
});

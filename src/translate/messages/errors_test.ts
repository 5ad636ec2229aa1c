import assert from "node:assert/strict";
import { GatewayError } from "../../errors.ts";
import { ANTHROPIC_ERRORS, errorTypeFor, fromChatError } from "./errors.ts";

Deno.test("each status gets Anthropic's error type", () => {
  const types = [400, 401, 403, 404, 408, 413, 415, 429, 500, 502, 503, 504, 529].map(errorTypeFor);
  assert.deepEqual(types, [
    "invalid_request_error",
    "authentication_error",
    "permission_error",
    "not_found_error",
    "invalid_request_error",
    "request_too_large",
    "invalid_request_error",
    "rate_limit_error",
    "api_error",
    "api_error",
    "overloaded_error",
    "api_error",
    "overloaded_error",
  ]);
});

Deno.test("the gateway's error keeps its status and headers in Anthropic's shape", async () => {
  const response = ANTHROPIC_ERRORS.response(
    new GatewayError(429, "rate_limit_exceeded", "Slow down", { headers: { "retry-after": "3" } }),
  );
  assert.equal(response.status, 429);
  assert.equal(response.headers.get("retry-after"), "3");
  assert.deepEqual(await response.json(), {
    type: "error",
    error: { type: "rate_limit_error", message: "Slow down" },
  });
});

Deno.test("a chat backend's error body, in any of its shapes, gives its message", () => {
  const message = (text: string) => fromChatError(500, text).error.message;
  assert.equal(message('{"error":{"message":"boom","type":"x"}}'), "boom");
  assert.equal(message('{"error":"boom"}'), "boom");
  assert.equal(message('{"message":"boom"}'), "boom");
  assert.equal(message("plain boom"), "plain boom");
  assert.equal(message(""), "The backend answered with status 500 and no message");
});

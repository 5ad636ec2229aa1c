import assert from "node:assert/strict";
import { fromMessagesError } from "./chat_to_messages_errors.ts";

const body = (type: string, message: string) =>
  JSON.stringify({ type: "error", error: { type, message } });

Deno.test("an Anthropic error keeps its status and message, its type as the code", () => {
  assert.deepEqual(fromMessagesError(400, body("invalid_request_error", "max_tokens: too big")), {
    status: 400,
    body: {
      error: {
        message: "max_tokens: too big",
        type: "invalid_request_error",
        param: null,
        code: "invalid_request_error",
      },
    },
  });
  const auth = fromMessagesError(401, body("authentication_error", "invalid x-api-key"));
  assert.equal(auth.status, 401);
  assert.equal(auth.body.error.code, "authentication_error");
  assert.equal(
    fromMessagesError(404, body("not_found_error", "model: x")).body.error.type,
    "not_found_error",
  );
  assert.equal(
    fromMessagesError(429, body("rate_limit_error", "slow down")).body.error.type,
    "requests",
  );
});

Deno.test("529 overloaded becomes 503, an upstream error", () => {
  const { status, body: out } = fromMessagesError(529, body("overloaded_error", "Overloaded"));
  assert.equal(status, 503);
  assert.deepEqual(out.error, {
    message: "Overloaded",
    type: "upstream_error",
    param: null,
    code: "overloaded_error",
  });
});

Deno.test("a body that is not Anthropic's error shape is passed on as the message", () => {
  assert.equal(fromMessagesError(502, "Bad gateway\n").body.error.message, "Bad gateway");
  assert.equal(fromMessagesError(500, "").body.error.code, "backend_error");
  assert.match(fromMessagesError(500, "").body.error.message, /status 500 and no message/);
  assert.throws(() => fromMessagesError(200, ""), RangeError);
});

import assert from "node:assert/strict";
import { fromOllamaError } from "./errors.ts";

Deno.test("fromOllamaError maps a missing model to not_found_error", () => {
  assert.deepEqual(
    fromOllamaError(404, '{"error":"model \\"llama9\\" not found, try pulling it first"}'),
    {
      status: 404,
      body: {
        error: {
          message: 'model "llama9" not found, try pulling it first',
          type: "not_found_error",
          param: null,
          code: "model_not_found",
        },
      },
    },
  );
});

Deno.test("fromOllamaError maps other 4xx to invalid_request_error", () => {
  const { status, body } = fromOllamaError(400, '{"error":"invalid options"}');
  assert.equal(status, 400);
  assert.deepEqual(body.error, {
    message: "invalid options",
    type: "invalid_request_error",
    param: null,
    code: "backend_rejected",
  });
  assert.equal(fromOllamaError(429, "{}").body.error.code, "backend_rejected");
});

Deno.test("fromOllamaError maps 5xx to upstream_error and keeps the status", () => {
  const { status, body } = fromOllamaError(503, '{"error":"server busy"}');
  assert.equal(status, 503);
  assert.deepEqual(body.error, {
    message: "server busy",
    type: "upstream_error",
    param: null,
    code: "backend_error",
  });
  assert.equal(fromOllamaError(500, "").body.error.type, "upstream_error");
});

Deno.test("fromOllamaError uses a text body as the message, shortened to 500 characters", () => {
  assert.equal(
    fromOllamaError(404, "404 page not found\n").body.error.message,
    "404 page not found",
  );
  const long = fromOllamaError(502, "é".repeat(600)).body.error.message;
  assert.equal([...long].length, 500);
  assert.ok(long.endsWith("é…"));
  assert.equal(fromOllamaError(500, "x".repeat(500)).body.error.message, "x".repeat(500));
  const longJson = JSON.stringify({ error: "y".repeat(700) });
  assert.equal([...fromOllamaError(500, longJson).body.error.message].length, 500);
  assert.equal(fromOllamaError(400, '["a"]').body.error.message, '["a"]');
});

Deno.test("fromOllamaError says when the backend gave no message", () => {
  assert.equal(
    fromOllamaError(500, "  ").body.error.message,
    "The backend answered with status 500 and no message",
  );
  assert.equal(
    fromOllamaError(500, '{"error":""}').body.error.message,
    "The backend answered with status 500 and no message",
  );
});

Deno.test("fromOllamaError refuses a status that is not an error", () => {
  assert.throws(() => fromOllamaError(200, "{}"), RangeError);
  assert.throws(() => fromOllamaError(302, ""), RangeError);
  assert.throws(() => fromOllamaError(600, ""), RangeError);
});

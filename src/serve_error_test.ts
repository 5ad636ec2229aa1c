import assert from "node:assert/strict";
import { BodyCut } from "./proxy/respond/body_cut.ts";
import { serveErrorHandler } from "./serve_error.ts";

Deno.test("an error that escaped the app is logged and answered with a 500 in OpenAI's shape", async () => {
  const logged: unknown[] = [];
  const serveError = serveErrorHandler((_message, error) => logged.push(error));
  const error = new Error("a bug");
  const response = serveError(error);
  assert.deepEqual(logged, [error]);
  assert.equal(response.status, 500);
  assert.deepEqual(await response.json(), {
    error: {
      message: "The gateway failed unexpectedly",
      type: "server_error",
      param: null,
      code: "internal_error",
    },
  });
});

Deno.test("a body cut on purpose is not logged again", async () => {
  const logged: unknown[] = [];
  const serveError = serveErrorHandler((_message, error) => logged.push(error));
  await serveError(new BodyCut(new Error("reset"))).body?.cancel();
  assert.deepEqual(logged, []);
});

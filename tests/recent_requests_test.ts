/**
 * `GET /admin/requests/{id}` over HTTP: a finished request, by the `x-request-id` it was
 * answered with, says which instance served it and after how many attempts.
 */
import assert from "node:assert/strict";
import { startFakeBackend } from "./fixtures/fake_backend.ts";
import { eventually } from "./fixtures/gate.ts";
import { startGateway } from "./fixtures/gateway.ts";

const VIEWER = { authorization: "Bearer sk-viewer" };

Deno.test("a finished request names the instance that served it and its attempts", async () => {
  await using failing = await startFakeBackend({ name: "failing", failStatus: 500 });
  await using healthy = await startFakeBackend({ name: "healthy" });
  await using gateway = await startGateway(JSON.stringify({
    admin: { keys: [{ id: "watcher", key: "sk-viewer", role: "viewer" }] },
    server: { retries: 1 },
    model: {
      services: {
        chat: {
          "load-balance": { type: "round-robin" },
          instances: [
            { name: "m", "base-url": failing.url },
            { name: "m", "base-url": healthy.url },
          ],
        },
      },
    },
  }));
  const answer = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "m", stream: true, messages: [{ role: "user", content: "hi" }] }),
  });
  assert.equal(answer.status, 200);
  await answer.text();
  const id = answer.headers.get("x-request-id");
  assert.ok(id);

  const request = await eventually(async () => {
    const response = await fetch(`${gateway.url}/admin/requests/${id}`, { headers: VIEWER });
    assert.equal(response.status, 200);
    return await response.json();
  }, 2000);
  assert.equal(request.request_id, id);
  assert.match(request.at, /^\d{4}-\d{2}-\d{2}T/);
  assert.equal(request.service, "chat");
  assert.equal(request.model, "m");
  assert.equal(request.instance, `m@${healthy.url}/v1/chat/completions`);
  assert.equal(request.attempts, 2);
  assert.equal(request.status, 200);
  assert.equal(request.outcome, "complete");
  assert.ok(request.time_to_first_token_ms > 0);
  assert.ok(request.duration_ms >= request.time_to_first_token_ms);
  assert.equal(request.output_tokens, 3, "the fake backend's three tokens");

  const unknown = await fetch(`${gateway.url}/admin/requests/nope`, { headers: VIEWER });
  assert.equal(unknown.status, 404);
  const { error } = await unknown.json();
  assert.equal(error.code, "request_not_found");
  assert.match(error.message, /No finished request "nope" among the latest 500/);

  const anonymous = await fetch(`${gateway.url}/admin/requests/${id}`);
  assert.equal(anonymous.status, 401);
  await anonymous.body?.cancel();
});

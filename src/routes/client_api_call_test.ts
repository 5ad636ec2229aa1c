import assert from "node:assert/strict";
import { isClientApiCall } from "./client_api_call.ts";

const post = (path: string) => new Request(`http://127.0.0.1:8080${path}`, { method: "POST" });

Deno.test("calls to the client API are POSTs under /v1 or /api/v1, not the admin API nor its actions", () => {
  for (const path of ["/v1/chat/completions", "/api/v1/embeddings", "/v1/messages?beta=true"]) {
    assert.ok(isClientApiCall(post(path)), path);
  }
  for (
    const path of [
      "/admin/keys",
      "/api/config/instance/add/chat",
      "/v1",
      "/v1x/chat",
      "/v1/stats/reset",
      "/api/v1/stats/refresh",
      "/v1/models/clear-cache",
    ]
  ) {
    assert.ok(!isClientApiCall(post(path)), path);
  }
  assert.ok(!isClientApiCall(new Request("http://127.0.0.1:8080/v1/models")));
});

import assert from "node:assert/strict";
import { isClientApiCall, routedPath } from "./api_prefix.ts";

const post = (path: string) => new Request(`http://127.0.0.1:8080${path}`, { method: "POST" });

Deno.test("JAiRouter's /api/v1 is routed as /v1", () => {
  assert.equal(routedPath(post("/api/v1/chat/completions")), "/v1/chat/completions");
  assert.equal(routedPath(post("/api/v1")), "/v1");
  assert.equal(routedPath(post("/api/config/instance")), "/api/config/instance");
});

Deno.test("calls to the client API are POSTs under /v1 or /api/v1, not the admin API", () => {
  for (const path of ["/v1/chat/completions", "/api/v1/embeddings", "/v1/messages?beta=true"]) {
    assert.ok(isClientApiCall(post(path)), path);
  }
  for (const path of ["/admin/keys", "/api/config/instance/add/chat", "/v1", "/v1x/chat"]) {
    assert.ok(!isClientApiCall(post(path)), path);
  }
  assert.ok(!isClientApiCall(new Request("http://127.0.0.1:8080/v1/models")));
});

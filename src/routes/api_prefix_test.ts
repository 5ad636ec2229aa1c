import assert from "node:assert/strict";
import { routedPath } from "./api_prefix.ts";

const post = (path: string) => new Request(`http://127.0.0.1:8080${path}`, { method: "POST" });

Deno.test("JAiRouter's /api/v1 is routed as /v1", () => {
  assert.equal(routedPath(post("/api/v1/chat/completions")), "/v1/chat/completions");
  assert.equal(routedPath(post("/api/v1")), "/v1");
  assert.equal(routedPath(post("/api/config/instance")), "/api/config/instance");
});

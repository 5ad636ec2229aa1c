import assert from "node:assert/strict";
import { nativeEndpointOf } from "./endpoint.ts";

Deno.test("nativeEndpointOf recognises native paths, behind a prefix too", () => {
  assert.equal(nativeEndpointOf("/api/chat"), "chat");
  assert.equal(nativeEndpointOf("/api/generate"), "generate");
  assert.equal(nativeEndpointOf("/api/embed"), "embed");
  assert.equal(nativeEndpointOf("/ollama/api/chat"), "chat");
  assert.equal(nativeEndpointOf("/gpu-1/ollama/api/embed"), "embed");
});

Deno.test("nativeEndpointOf leaves every other path alone", () => {
  for (
    const path of [
      "/v1/chat/completions",
      "/v1/completions",
      "/v1/embeddings",
      "/api/embeddings",
      "/api/chat/",
      "/myapi/chat",
      "api/chat",
      "/api/chat/x",
      "/api/tags",
      "",
    ]
  ) {
    assert.equal(nativeEndpointOf(path), undefined, path);
  }
});

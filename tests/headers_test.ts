/**
 * Which headers cross the gateway: hop-by-hop ones never do, the request id does both ways,
 * the client's credentials only when an instance asks, and an instance's own headers always.
 */
import assert from "node:assert/strict";
import OpenAI from "openai";
import { startFakeBackend } from "./fixtures/fake_backend.ts";
import { oneService, startGateway } from "./fixtures/gateway.ts";
import { rawRequest, startRawServer } from "./fixtures/raw_http.ts";

const BODY = JSON.stringify({ model: "m", messages: [] });

Deno.test("hop-by-hop request headers are not forwarded; end-to-end ones are", async () => {
  await using backend = await startFakeBackend();
  await using gateway = await startGateway(oneService("chat", [backend.url]));
  const response = await rawRequest(gateway.url, [
    "POST /v1/chat/completions HTTP/1.1",
    `host: ${new URL(gateway.url).host}`,
    "content-type: application/json",
    "connection: close, x-hop-named",
    "x-hop-named: must-not-pass",
    "keep-alive: timeout=5",
    "te: trailers",
    "proxy-authorization: Basic c2VjcmV0",
    "proxy-connection: keep-alive",
    "trailer: x-checksum",
    "x-end-to-end: kept",
  ], BODY);
  assert.equal(response.status, 200);
  const headers = backend.requests[0]!.headers;
  for (
    const name of [
      "x-hop-named",
      "keep-alive",
      "te",
      "proxy-authorization",
      "proxy-connection",
      "trailer",
    ]
  ) {
    assert.equal(headers.get(name), null, `${name} is not forwarded`);
  }
  assert.doesNotMatch(headers.get("connection") ?? "", /x-hop-named/);
  assert.equal(headers.get("x-end-to-end"), "kept");
  assert.equal(headers.get("x-forwarded-for"), "127.0.0.1");
  assert.equal(headers.get("host"), new URL(backend.url).host, "Host names the backend");
});

Deno.test("hop-by-hop response headers are not passed back; end-to-end ones are", async () => {
  const answer = `{"id":"x","object":"chat.completion","choices":[]}`;
  await using raw = startRawServer([
    "HTTP/1.1 200 OK",
    "content-type: application/json",
    "connection: close, x-backend-hop",
    "x-backend-hop: secret",
    "keep-alive: timeout=5, max=100",
    "proxy-authenticate: Basic realm=backend",
    "x-backend-kept: yes",
    `content-length: ${answer.length}`,
    "",
    answer,
  ].join("\r\n"));
  await using gateway = await startGateway(oneService("chat", [raw.url]));
  const response = await rawRequest(gateway.url, [
    "POST /v1/chat/completions HTTP/1.1",
    `host: ${new URL(gateway.url).host}`,
    "content-type: application/json",
    "connection: close",
  ], BODY);
  assert.equal(response.status, 200);
  assert.equal(response.body, answer);
  const names = response.headers.map(([name]) => name);
  for (const name of ["x-backend-hop", "keep-alive", "proxy-authenticate"]) {
    assert.ok(!names.includes(name), `${name} is not passed back`);
  }
  const connection = response.headers.filter(([name]) => name === "connection");
  for (const [, value] of connection) assert.doesNotMatch(value, /x-backend-hop/);
  assert.ok(
    response.headers.some(([name, value]) => name === "x-backend-kept" && value === "yes"),
  );
});

Deno.test("x-request-id is generated, sent to the backend and returned", async () => {
  await using backend = await startFakeBackend();
  await using gateway = await startGateway(oneService("chat", [backend.url]));
  const send = (headers: Record<string, string> = {}) =>
    fetch(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: BODY,
    });

  const generated = await send();
  await generated.body?.cancel();
  const id = generated.headers.get("x-request-id");
  assert.ok(id && id.length >= 8, "an id is generated");
  assert.equal(backend.requests[0]!.headers.get("x-request-id"), id);

  const other = await send();
  await other.body?.cancel();
  assert.notEqual(other.headers.get("x-request-id"), id, "each request gets its own id");

  const propagated = await send({ "x-request-id": "trace-abc.123" });
  await propagated.body?.cancel();
  assert.equal(propagated.headers.get("x-request-id"), "trace-abc.123");
  assert.equal(backend.requests[2]!.headers.get("x-request-id"), "trace-abc.123");

  const unacceptable = "x".repeat(500);
  const replaced = await send({ "x-request-id": unacceptable });
  await replaced.body?.cancel();
  const replacement = replaced.headers.get("x-request-id");
  assert.ok(replacement && replacement !== unacceptable);
  assert.equal(backend.requests[3]!.headers.get("x-request-id"), replacement);
});

Deno.test("the client's credentials go upstream only with forward-authorization", async () => {
  await using backend = await startFakeBackend();
  await using gateway = await startGateway(`
model:
  services:
    chat:
      instances:
        - name: private
          base-url: ${backend.url}
        - name: passthrough
          base-url: ${backend.url}
          forward-authorization: true
`);
  const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: "sk-client", maxRetries: 0 });
  await client.chat.completions.create({ model: "private", messages: [] });
  await client.chat.completions.create({ model: "passthrough", messages: [] });
  const [hidden, forwarded] = backend.requests;
  assert.equal(hidden!.headers.get("authorization"), null);
  assert.equal(forwarded!.headers.get("authorization"), "Bearer sk-client");

  const response = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-api-key": "k-client" },
    body: JSON.stringify({ model: "private", messages: [] }),
  });
  await response.body?.cancel();
  assert.equal(backend.requests[2]!.headers.get("x-api-key"), null);
});

Deno.test("an instance's headers are sent upstream and win over the client's", async () => {
  await using backend = await startFakeBackend();
  await using gateway = await startGateway(`
model:
  services:
    embedding:
      instances:
        - name: e
          base-url: ${backend.url}
          forward-authorization: true
          headers:
            Authorization: Bearer sk-backend
            X-Tenant: team-a
`);
  const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: "sk-client", maxRetries: 0 });
  await client.embeddings.create({ model: "e", input: "x" });
  const headers = backend.requests[0]!.headers;
  assert.equal(headers.get("authorization"), "Bearer sk-backend");
  assert.equal(headers.get("x-tenant"), "team-a");
});

Deno.test("X-Forwarded-For from an untrusted client is replaced by its address", async () => {
  await using backend = await startFakeBackend();
  await using gateway = await startGateway(oneService("chat", [backend.url]));
  const response = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-forwarded-for": "203.0.113.7" },
    body: BODY,
  });
  await response.body?.cancel();
  assert.equal(backend.requests[0]!.headers.get("x-forwarded-for"), "127.0.0.1");
});

Deno.test("X-Forwarded-For from a trusted proxy gets the proxy's address appended", async () => {
  await using backend = await startFakeBackend();
  await using gateway = await startGateway(
    oneService("chat", [backend.url], { server: "server:\n  trusted-proxies: [127.0.0.0/8]\n" }),
  );
  const response = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-forwarded-for": "203.0.113.7" },
    body: BODY,
  });
  await response.body?.cancel();
  assert.equal(
    backend.requests[0]!.headers.get("x-forwarded-for"),
    "203.0.113.7, 127.0.0.1",
  );
});

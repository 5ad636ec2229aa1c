import assert from "node:assert/strict";
import { adminCall, type ErrorBody } from "./fixtures/admin.ts";
import { startFakeBackend } from "./fixtures/fake_backend.ts";
import { gatewayOverBackend, oneService, startGateway } from "./fixtures/gateway.ts";
import { startScriptedServer } from "./fixtures/raw_http.ts";
import { postChat } from "./fixtures/requests.ts";

/** A resolver that knows one name, `gpu.test`, and gives it the loopback address. */
function resolveGpuTest(hostname: string): Promise<string[]> {
  return hostname === "gpu.test"
    ? Promise.resolve(["127.0.0.1"])
    : Promise.reject(new Error(`dns error: ${hostname} could not be resolved`));
}

async function addInstance(gatewayUrl: string, name: string, baseUrl: string): Promise<void> {
  const added = await adminCall(gatewayUrl, "POST", "/admin/services/chat/instances", {
    ifMatch: "*",
    body: { name, "base-url": baseUrl },
  });
  assert.equal(added.status, 201, JSON.stringify(added.body));
}

Deno.test("an instance added at run time is refused when its name resolves to a refused address", async () => {
  await using setup = await gatewayOverBackend(
    (url) => `admin:\n  allow-private: false\n${oneService("chat", [url])}`,
    { gateway: { resolve: resolveGpuTest } },
  );
  await using named = await startFakeBackend({ name: "named" });
  const port = new URL(named.url).port;
  await addInstance(setup.gateway.url, "n", `http://gpu.test:${port}`);

  const response = await postChat(setup.gateway.url, { model: "n" });
  const body: ErrorBody = await response.json();
  assert.equal(response.status, 502, JSON.stringify(body));
  assert.equal(body.error.code, "upstream_address_refused");
  assert.equal(
    body.error.message,
    `Model "n" failed after 1 attempt: The backend's address is refused: "gpu.test" resolves ` +
      `to 127.0.0.1, which is a loopback address (127.0.0.0/8), refused because ` +
      `admin.allow-private is false`,
  );
  assert.equal(named.requests.length, 0);

  // The file's instances are the operator's own, on whatever address.
  const fromFile = await postChat(setup.gateway.url, { model: "m" });
  assert.equal(fromFile.status, 200);
  await fromFile.body?.cancel();
});

Deno.test("with private ranges allowed, a name that resolves to loopback is served", async () => {
  await using setup = await gatewayOverBackend((url) => oneService("chat", [url]), {
    gateway: { resolve: resolveGpuTest },
  });
  await using named = await startFakeBackend({ name: "named" });
  await addInstance(setup.gateway.url, "n", `http://gpu.test:${new URL(named.url).port}`);

  const response = await postChat(setup.gateway.url, { model: "n" });
  assert.equal(response.status, 200);
  assert.equal((await response.json()).backend, "named");
  assert.equal(named.requests.length, 1);
});

Deno.test("an instance stored at run time is checked under the policy of each gateway that serves it", async () => {
  await using kv = await Deno.openKv(":memory:");
  await using fileBackend = await startFakeBackend({ name: "file" });
  await using added = await startFakeBackend({ name: "added" });
  const file = oneService("chat", [fileBackend.url]);
  await using open = await startGateway(file, { kv });
  await addInstance(open.url, "n", added.url);
  await using closed = await startGateway(`admin:\n  allow-private: false\n${file}`, { kv });

  const refused = await postChat(closed.url, { model: "n" });
  const body: ErrorBody = await refused.json();
  assert.equal(refused.status, 502, JSON.stringify(body));
  assert.equal(body.error.code, "upstream_address_refused");
  assert.match(body.error.message, /127\.0\.0\.1, which is a loopback address/);
  assert.equal(added.requests.length, 0);

  const served = await postChat(open.url, { model: "n" });
  assert.equal(served.status, 200);
  await served.body?.cancel();
  assert.equal(added.requests.length, 1);
});

Deno.test("a backend's redirect is passed on as it is, never followed", async () => {
  await using elsewhere = await startFakeBackend({ name: "elsewhere" });
  const location = `${elsewhere.url}/v1/chat/completions`;
  await using redirecting = startScriptedServer(async (peer) => {
    await peer.readRequest();
    await peer.write(
      `HTTP/1.1 307 Temporary Redirect\r\nlocation: ${location}\r\ncontent-length: 0\r\n\r\n`,
    );
  });
  await using gateway = await startGateway(oneService("chat", [redirecting.url]));

  // The test's own client must not follow it either.
  const response = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "Hi" }] }),
    redirect: "manual",
  });
  assert.equal(response.status, 307);
  assert.equal(response.headers.get("location"), location);
  await response.body?.cancel();
  assert.equal(redirecting.heads.length, 1);
  assert.equal(elsewhere.requests.length, 0);
});

Deno.test("a request moves on from a refused instance to another of its model, spending no retry", async () => {
  await using setup = await gatewayOverBackend(
    (url) =>
      `admin:\n  allow-private: false\n` +
      oneService("chat", [url], { strategy: "round-robin", server: "server:\n  retries: 0\n" }),
    { gateway: { resolve: resolveGpuTest }, backend: { name: "file" } },
  );
  await using named = await startFakeBackend({ name: "named" });
  await addInstance(setup.gateway.url, "m", `http://gpu.test:${new URL(named.url).port}`);

  for (let sent = 0; sent < 2; sent++) {
    const response = await postChat(setup.gateway.url);
    assert.equal(response.status, 200);
    assert.equal((await response.json()).backend, "file");
  }
  assert.equal(named.requests.length, 0);
});

Deno.test("a checked instance never reuses a connection a trusted one opened to the same host", async () => {
  await using backend = await startFakeBackend({ name: "shared" });
  const hostUrl = `http://gpu.test:${new URL(backend.url).port}`;
  await using gateway = await startGateway(
    `admin:\n  allow-private: false\n${oneService("chat", [hostUrl])}`,
    { resolve: resolveGpuTest },
  );
  const trusted = await postChat(gateway.url);
  assert.equal(trusted.status, 200);
  await trusted.body?.cancel();
  await addInstance(gateway.url, "n", `${hostUrl}/other`);

  const refused = await postChat(gateway.url, { model: "n" });
  const body: ErrorBody = await refused.json();
  assert.equal(refused.status, 502, JSON.stringify(body));
  assert.equal(body.error.code, "upstream_address_refused");
  assert.equal(backend.requests.length, 1);
});

/**
 * A backend whose certificate the gateway does not accept is misconfigured, not flaky: the
 * client gets `502 upstream_tls_error` naming the reason and the fix, the request moves on to
 * another instance but never tries the same one again, and the status says why.
 */
import assert from "node:assert/strict";
import { startFakeBackend } from "./fixtures/fake_backend.ts";
import { eventually } from "./fixtures/gate.ts";
import { oneService, startGateway } from "./fixtures/gateway.ts";
import { BACKEND_ROUTES, gatewayOverRoute } from "./fixtures/backend_routes.ts";
import { startScriptedServer } from "./fixtures/raw_http.ts";
import { postChat, serviceStatus } from "./fixtures/requests.ts";
import { EXPIRED_CA, EXPIRED_TLS, TEST_CA } from "./fixtures/tls.ts";

const OK_ANSWER =
  'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\n\r\n{"ok":true}';

/** A TLS backend that answers every request with `{"ok":true}`. */
function tlsBackend(tls: true | typeof EXPIRED_TLS = true) {
  return startScriptedServer(async (peer) => {
    await peer.readRequest();
    await peer.write(OK_ANSWER);
  }, { tls });
}

const RETRIES = "server:\n  retries: 2\n";

for (const route of BACKEND_ROUTES.filter((route) => route.tls)) {
  Deno.test(`${route.name}: an untrusted authority: 502 upstream_tls_error naming it and DENO_CERT, tried once`, async () => {
    await using backend = tlsBackend();
    await using gateway = await gatewayOverRoute(
      route,
      oneService("chat", [backend.url], { server: RETRIES }),
      { gateway: { caCerts: [] } },
    );
    const response = await postChat(gateway.url);
    assert.equal(response.status, 502);
    const { error } = await response.json();
    assert.equal(error.code, "upstream_tls_error");
    assert.equal(error.type, "upstream_error");
    assert.match(error.message, /^Model "m" failed after 1 attempt: /);
    assert.match(error.message, /"127\.0\.0\.1"/);
    assert.match(error.message, /unknown issuer/);
    assert.match(error.message, /DENO_CERT/);
    assert.equal(backend.connections, 1, "the instance is not tried again");
    const [instance] = (await serviceStatus(gateway.url)).instances;
    assert.match(instance?.lastError?.message ?? "", /unknown issuer/);
  });

  Deno.test(`${route.name}: an expired certificate: 502 upstream_tls_error saying it expired`, async () => {
    await using backend = tlsBackend(EXPIRED_TLS);
    await using gateway = await gatewayOverRoute(
      route,
      oneService("chat", [backend.url], { server: RETRIES }),
      { gateway: { caCerts: [TEST_CA, EXPIRED_CA] } },
    );
    const response = await postChat(gateway.url);
    assert.equal(response.status, 502);
    const { error } = await response.json();
    assert.equal(error.code, "upstream_tls_error");
    assert.match(error.message, /expired/);
    assert.equal(backend.connections, 1, "the instance is not tried again");
  });

  Deno.test(`${route.name}: a plain-HTTP backend named https: 502 upstream_tls_error saying it is not TLS`, async () => {
    // A plain-HTTP server answers the TLS greeting, which is not HTTP, with a 400.
    await using backend = startScriptedServer(async (peer) => {
      await peer.write("HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n");
    });
    const port = new URL(backend.url).port;
    await using gateway = await gatewayOverRoute(
      route,
      oneService("chat", [`https://127.0.0.1:${port}`], { server: RETRIES }),
    );
    const response = await postChat(gateway.url);
    assert.equal(response.status, 502);
    const { error } = await response.json();
    assert.equal(error.code, "upstream_tls_error");
    assert.match(error.message, /not TLS/);
    assert.equal(backend.connections, 1, "the instance is not tried again");
  });
}

// The test proxy reaches only 127.0.0.1, not a name.
Deno.test("a certificate for another name: 502 upstream_tls_error saying which names it covers", async () => {
  await using backend = tlsBackend();
  const port = new URL(backend.url).port;
  await using gateway = await startGateway(
    oneService("chat", [`https://gpu.test:${port}`], { server: RETRIES }),
    { resolve: () => Promise.resolve(["127.0.0.1"]) },
  );
  const response = await postChat(gateway.url);
  assert.equal(response.status, 502);
  const { error } = await response.json();
  assert.equal(error.code, "upstream_tls_error");
  assert.match(error.message, /name mismatch/);
  assert.match(error.message, /"gpu\.test"/);
  assert.match(error.message, /localhost/);
  assert.equal(backend.connections, 1, "the instance is not tried again");
});

Deno.test("an instance whose certificate is refused is skipped for another without a retry", async () => {
  await using untrusted = tlsBackend();
  await using trusted = await startFakeBackend({ name: "trusted" });
  await using gateway = await startGateway(
    oneService("chat", [untrusted.url, trusted.url], {
      strategy: "round-robin",
      server: "server:\n  retries: 0\n",
    }),
    { caCerts: [] },
  );
  for (let round = 0; round < 2; round++) {
    const response = await postChat(gateway.url);
    assert.equal(response.status, 200);
    assert.equal((await response.json()).backend, "trusted");
  }
  assert.equal(untrusted.heads.length, 0);
});

Deno.test("a health probe names the TLS reason and takes the instance out at once", async () => {
  await using backend = await startFakeBackend({ tls: true });
  await using gateway = await startGateway(
    `model:
  health-check: { interval: 100, timeout: 500, unhealthy-threshold: 3 }
  services:
    chat:
      instances:
        - { name: m, base-url: "${backend.url}" }
`,
    { caCerts: [] },
  );
  await eventually(async () => {
    const [instance] = (await serviceStatus(gateway.url)).instances;
    assert.equal(instance?.health.status, "down");
    // Down at the first probe, not after a run of failed ones.
    assert.match(instance?.health.reason ?? "", /^The TLS handshake .*unknown issuer/);
  }, 2_000);
});

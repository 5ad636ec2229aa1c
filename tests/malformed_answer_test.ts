/**
 * An answer whose head cannot be passed on is the backend's failure: a 502 within the retry
 * budget, another instance tried, and nothing left claimed. The conformance suite
 * (transport_conformance_test.ts) covers the other answers that once went wrong.
 */
import assert from "node:assert/strict";
import { BACKEND_ROUTES } from "./fixtures/backend_routes.ts";
import { startFakeBackend } from "./fixtures/fake_backend.ts";
import { oneService, startGateway } from "./fixtures/gateway.ts";
import { startScriptedServer } from "./fixtures/raw_http.ts";
import { postChat, serviceStatus } from "./fixtures/requests.ts";

/** A streamed answer whose head carries `header` as written, framing and all. */
function streamWithHeader(header: string): string {
  return "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n" + header +
    "\r\ntransfer-encoding: chunked\r\n\r\n" +
    '1c\r\ndata: {"choices":[]}\n\ndata: \r\n0\r\n\r\n';
}

const MALFORMED_HEADS = {
  "a bare LF in a header value": streamWithHeader("x-odd: one\ntwo"),
  "a NUL in a header value": streamWithHeader("x-odd: one\0two"),
  "a NUL in the reason phrase": streamWithHeader("x-odd: one").replace("200 OK", "200 O\0K"),
};

for (const route of BACKEND_ROUTES) {
  for (const [what, answer] of Object.entries(MALFORMED_HEADS)) {
    Deno.test(`${route.name}: ${what} is a 502 bad_upstream_response, and nothing stays claimed`, async () => {
      await using setup = route.setUp();
      await using backend = startScriptedServer(async (peer) => {
        await peer.readRequest();
        await peer.write(answer);
      }, { tls: route.tls });
      await using gateway = await startGateway(
        `server:\n  retries: 1\nmodel:\n  services:\n    chat:\n      load-balance:\n` +
          `        type: least-connections\n      instances:\n` +
          `        - name: m\n          base-url: ${backend.url}\n` +
          `          max-concurrency: 1\n`,
        setup.gateway,
      );
      const response = await postChat(gateway.url, { stream: true });
      assert.equal(response.status, 502);
      const { error } = await response.json();
      assert.equal(error.code, "bad_upstream_response");
      assert.equal(backend.heads.length, 2, "tried once more within the retry budget");
      const [instance] = (await serviceStatus(gateway.url)).instances;
      assert.equal(instance?.activeRequests, 0);
      assert.equal(instance?.failures, 2);
      // With its one slot free again, the instance is still picked.
      const again = await postChat(gateway.url, { stream: true });
      assert.equal(again.status, 502);
      await again.body?.cancel();
      assert.equal(backend.heads.length, 4);
    });
  }

  Deno.test(`${route.name}: a malformed answer moves on to another instance`, async () => {
    await using setup = route.setUp();
    await using bad = startScriptedServer(async (peer) => {
      await peer.readRequest();
      await peer.write(MALFORMED_HEADS["a NUL in a header value"]);
    }, { tls: route.tls });
    await using good = await startFakeBackend({ name: "good", tls: route.tls });
    await using gateway = await startGateway(
      oneService("chat", [bad.url, good.url], { strategy: "round-robin" }),
      setup.gateway,
    );
    for (let round = 0; round < 2; round++) {
      const response = await postChat(gateway.url);
      assert.equal(response.status, 200);
      assert.equal((await response.json()).backend, "good");
    }
    const { instances } = await serviceStatus(gateway.url);
    assert.deepEqual(instances.map((instance) => instance.activeRequests), [0, 0]);
    assert.equal(instances[0]?.failures, 1);
  });
}

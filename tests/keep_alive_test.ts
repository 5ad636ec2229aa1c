/**
 * The gateway keeps connections to backends open between requests, and copes with backends
 * that close them.
 */
import assert from "node:assert/strict";
import { oneService, startGateway } from "./fixtures/gateway.ts";
import { startRawServer } from "./fixtures/raw_http.ts";
import { postChat, serviceStatus } from "./fixtures/requests.ts";

const ANSWER =
  'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\n\r\n{"ok":true}';

Deno.test("a backend that closes every connection after its answer still answers every request", async () => {
  // Closes without saying `Connection: close`: the gateway finds out only from the socket.
  await using backend = startRawServer(ANSWER);
  await using gateway = await startGateway(oneService("chat", [backend.url]));
  for (let round = 0; round < 5; round++) {
    const response = await postChat(gateway.url);
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { ok: true });
  }
  assert.equal(backend.heads.length, 5, "each request reached the backend once");
  const [instance] = (await serviceStatus(gateway.url)).instances;
  assert.equal(instance?.lastError, null);
});

Deno.test("requests one after another share one connection to the backend", async () => {
  const peers = new Set<number>();
  await using backend = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (_request, info) => {
      peers.add(info.remoteAddr.port);
      return Response.json({ ok: true });
    },
  );
  await using gateway = await startGateway(
    oneService("chat", [`http://127.0.0.1:${backend.addr.port}`]),
  );
  for (let round = 0; round < 5; round++) {
    const response = await postChat(gateway.url);
    assert.deepEqual(await response.json(), { ok: true });
  }
  assert.equal(peers.size, 1);
});

/**
 * Backend answers that once went wrong at the gateway's edge to its backends: a header that
 * cannot be passed on, an answer sent before the upload was read, bare-LF line ends, and a slow
 * answer taken for an unreachable backend. Each runs over every way the gateway reaches a
 * backend.
 */
import assert from "node:assert/strict";
import { startFakeBackend } from "./fixtures/fake_backend.ts";
import { oneService, startGateway } from "./fixtures/gateway.ts";
import { type RawPeer, startScriptedServer } from "./fixtures/raw_http.ts";
import { postChat, serviceStatus } from "./fixtures/requests.ts";

const TRANSPORTS = ["http1", "fetch"] as const;

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

for (const transport of TRANSPORTS) {
  for (const [what, answer] of Object.entries(MALFORMED_HEADS)) {
    Deno.test(`${transport}: ${what} is a 502 bad_upstream_response, and nothing stays claimed`, async () => {
      await using backend = startScriptedServer(async (peer) => {
        await peer.readRequest();
        await peer.write(answer);
      });
      await using gateway = await startGateway(
        `server:\n  retries: 1\nmodel:\n  services:\n    chat:\n      load-balance:\n` +
          `        type: least-connections\n      instances:\n` +
          `        - name: m\n          base-url: ${backend.url}\n` +
          `          max-concurrency: 1\n`,
        { transport },
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

  Deno.test(`${transport}: a malformed answer moves on to another instance`, async () => {
    await using bad = startScriptedServer(async (peer) => {
      await peer.readRequest();
      await peer.write(MALFORMED_HEADS["a NUL in a header value"]);
    });
    await using good = await startFakeBackend({ name: "good" });
    await using gateway = await startGateway(
      oneService("chat", [bad.url, good.url], { strategy: "round-robin" }),
      { transport },
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

  Deno.test(`${transport}: a 413 sent before a large upload was read reaches the client as it is`, async () => {
    const refusal = '{"error":{"message":"Request too large","type":"invalid_request_error"}}';
    await using backend = startScriptedServer(async (peer) => {
      await peer.readRequest({ body: false });
      await peer.write(
        "HTTP/1.1 413 Payload Too Large\r\ncontent-type: application/json\r\n" +
          `connection: close\r\ncontent-length: ${refusal.length}\r\n\r\n${refusal}`,
      );
    });
    await using gateway = await startGateway(
      `server:\n  max-body-size: 64MiB\n` + oneService("stt", [backend.url], { model: "whisper" }),
      { transport },
    );
    const form = new FormData();
    form.set("model", "whisper");
    form.set("file", new Blob([new Uint8Array(16 * 1024 * 1024)]), "speech.wav");
    const response = await fetch(`${gateway.url}/v1/audio/transcriptions`, {
      method: "POST",
      body: form,
    });
    assert.equal(response.status, 413);
    assert.equal(await response.text(), refusal);
    assert.equal(backend.heads.length, 1, "not retried");
    const [instance] = (await serviceStatus(gateway.url, "/v1/audio/transcriptions/status"))
      .instances;
    assert.equal(instance?.failures, 0);
    assert.equal(instance?.activeRequests, 0);
  });

  Deno.test(`${transport}: a head with bare-LF line ends is read at once`, async () => {
    await using backend = startScriptedServer(async (peer) => {
      await peer.readRequest();
      await peer.write(
        'HTTP/1.1 200 OK\ncontent-type: application/json\ncontent-length: 11\n\n{"ok":true}',
      );
    });
    await using gateway = await startGateway(
      oneService("chat", [backend.url], { server: "server:\n  timeouts:\n    first-byte: 5000\n" }),
      { transport },
    );
    const started = performance.now();
    const response = await postChat(gateway.url);
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { ok: true });
    assert.ok(performance.now() - started < 4000, "answered before the first-byte timeout");
  });
}

Deno.test("http1: an answer slower than the connect timeout takes one connection per request", async () => {
  const answer = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}";
  const slow = async (peer: RawPeer) => {
    await peer.readRequest();
    // A backend that is up but slow: it answers well after the connect timeout.
    await new Promise((resolve) => setTimeout(resolve, 150));
    await peer.write(answer);
  };
  await using backend = startScriptedServer(slow);
  await using gateway = await startGateway(
    oneService("chat", [backend.url], {
      server: "server:\n  timeouts:\n    connect: 20\n    first-byte: 5000\n",
    }),
  );
  const responses = await Promise.all(Array.from({ length: 5 }, () => postChat(gateway.url)));
  for (const response of responses) {
    assert.equal(response.status, 200);
    await response.body?.cancel();
  }
  assert.equal(backend.connections, 5);
});

/**
 * Which client a request counts as: the socket peer, unless the peer is a trusted proxy, when
 * the rightmost untrusted address it forwarded is. Spoofed headers from anyone else change
 * nothing.
 */
import assert from "node:assert/strict";
import { manualClock } from "./fixtures/clock.ts";
import { startFakeBackend } from "./fixtures/fake_backend.ts";
import { perClientLimit, startGateway } from "./fixtures/gateway.ts";
import { chatStatusCode } from "./fixtures/requests.ts";

function postAs(baseUrl: string, forwardedFor?: string): Promise<number> {
  return chatStatusCode(
    baseUrl,
    forwardedFor ? { headers: { "x-forwarded-for": forwardedFor } } : {},
  );
}

Deno.test("spoofed X-Forwarded-For from an untrusted peer changes nothing", async () => {
  await using backend = await startFakeBackend();
  const clock = manualClock();
  await using gateway = await startGateway(perClientLimit(backend.url), { now: clock.now });
  assert.equal(await postAs(gateway.url, "198.51.100.1"), 200);
  assert.equal(await postAs(gateway.url, "198.51.100.2"), 429, "still the same client");
  assert.equal(await postAs(gateway.url, "198.51.100.3, 198.51.100.4"), 429);
  assert.equal(backend.requests.length, 1);
  assert.equal(backend.requests[0]!.headers.get("x-forwarded-for"), "127.0.0.1");
});

Deno.test("behind a trusted proxy each forwarded client has its own limit", async () => {
  await using backend = await startFakeBackend();
  const clock = manualClock();
  await using gateway = await startGateway(
    perClientLimit(backend.url, {
      server: "server:\n  trusted-proxies: [127.0.0.1, 10.0.0.0/8]\n",
    }),
    { now: clock.now },
  );
  assert.equal(await postAs(gateway.url, "198.51.100.1"), 200);
  assert.equal(await postAs(gateway.url, "198.51.100.2"), 200, "another client");
  assert.equal(await postAs(gateway.url, "198.51.100.1"), 429);
  assert.equal(
    await postAs(gateway.url, "203.0.113.9, 198.51.100.1"),
    429,
    "a client prepending a fake address is still itself: the rightmost untrusted counts",
  );
  assert.equal(
    await postAs(gateway.url, "198.51.100.2, 10.1.2.3"),
    429,
    "trusted hops are skipped to reach the client",
  );
  assert.equal(await postAs(gateway.url), 200, "the proxy's own requests count as the proxy");
  assert.equal(
    backend.requests[0]!.headers.get("x-forwarded-for"),
    "198.51.100.1, 127.0.0.1",
    "the trusted chain goes upstream with the proxy appended",
  );
});

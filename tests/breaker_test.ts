/**
 * A circuit breaker against a failing fake backend: it opens after failureThreshold failures,
 * lets a capped number of probes through once its timeout has passed, and closes after
 * successThreshold good probes. The gateway's clock is moved by hand.
 */
import assert from "node:assert/strict";
import { type ManualClock, manualClock } from "./fixtures/clock.ts";
import { startFakeBackend } from "./fixtures/fake_backend.ts";
import { Gate } from "./fixtures/gate.ts";
import { type GatewayOverBackend, gatewayOverBackend, startGateway } from "./fixtures/gateway.ts";
import { postChat, serviceStatus } from "./fixtures/requests.ts";

/**
 * A backend answering `failStatus` behind a gateway with these `circuit-breaker` keys, no
 * retries and no outlier detection, so only the breaker decides; its clock moves by hand.
 */
async function breakerSetup(
  breaker: Record<string, unknown>,
  failStatus: number,
  firstByteTimeout?: number,
): Promise<GatewayOverBackend & { readonly clock: ManualClock }> {
  const clock = manualClock();
  const server = {
    retries: 0,
    ...(firstByteTimeout === undefined ? {} : { timeouts: { "first-byte": firstByteTimeout } }),
  };
  const setup = await gatewayOverBackend((url) =>
    JSON.stringify({
      server,
      model: {
        "outlier-detection": { enabled: false },
        "circuit-breaker": breaker,
        services: { chat: { instances: [{ name: "m", "base-url": url }] } },
      },
    }), { backend: { failStatus }, gateway: { now: clock.now } });
  return Object.assign(setup, { clock });
}

async function breakerOf(gatewayUrl: string) {
  const breaker = (await serviceStatus(gatewayUrl)).instances[0]!.breaker;
  assert.ok(breaker, "the instance has a breaker");
  return breaker;
}

Deno.test("a failing backend is cut off after failureThreshold failures", async () => {
  await using setup = await breakerSetup({ failureThreshold: 2, timeout: 5000 }, 500);
  const { backend, gateway, clock } = setup;
  for (let i = 0; i < 2; i++) {
    const response = await postChat(gateway.url);
    assert.equal(response.status, 500, "the backend's own error while the breaker is closed");
    await response.body?.cancel();
  }
  const cut = await postChat(gateway.url);
  assert.equal(cut.status, 503);
  assert.equal(cut.headers.get("retry-after"), "5");
  const { error } = await cut.json();
  assert.equal(error.code, "no_healthy_upstream");
  assert.equal(
    error.message,
    'Every instance of model "m" is out of service: 1 with its circuit breaker open',
  );
  assert.equal(backend.requests.length, 2, "nothing reaches the backend while open");
  const breaker = await breakerOf(gateway.url);
  assert.equal(breaker.status, "open");
  assert.equal(breaker.opened, 1);
  assert.equal(breaker.retryAt, new Date(clock.now() + 5_000).toISOString());
});

Deno.test("half-open lets one probe through, others skip, and a good probe closes it", async () => {
  await using setup = await breakerSetup({
    failureThreshold: 1,
    timeout: 1000,
    successThreshold: 1,
  }, 500);
  const { backend, gateway, clock } = setup;
  await (await postChat(gateway.url)).body?.cancel();
  assert.equal((await breakerOf(gateway.url)).status, "open");

  clock.advance(999);
  assert.equal((await postChat(gateway.url)).status, 503, "still open 1 ms before the timeout");
  clock.advance(1);
  assert.equal((await breakerOf(gateway.url)).status, "half-open");

  backend.failWith(undefined);
  const release = new Gate();
  backend.holdNext(release);
  const probe = postChat(gateway.url);
  await backend.received(2);
  const skipped = await postChat(gateway.url);
  assert.equal(skipped.status, 503, "a second request while the probe is out is refused");
  await skipped.body?.cancel();
  assert.equal((await breakerOf(gateway.url)).probesInFlight, 1);
  release.open();
  assert.equal((await probe).status, 200);
  assert.equal((await breakerOf(gateway.url)).status, "closed");
  const after = await postChat(gateway.url);
  assert.equal(after.status, 200);
  await after.body?.cancel();
  assert.equal(backend.requests.length, 3);
});

Deno.test("a failed probe opens the breaker again for a fresh timeout", async () => {
  await using setup = await breakerSetup({
    failureThreshold: 1,
    timeout: 1000,
    successThreshold: 2,
  }, 502);
  const { backend, gateway, clock } = setup;
  await (await postChat(gateway.url)).body?.cancel();
  clock.advance(1_000);
  const probe = await postChat(gateway.url);
  assert.equal(probe.status, 502);
  await probe.body?.cancel();
  const breaker = await breakerOf(gateway.url);
  assert.equal(breaker.status, "open");
  assert.equal(breaker.opened, 2);
  clock.advance(999);
  assert.equal((await postChat(gateway.url)).status, 503);
  assert.equal(backend.requests.length, 2);
});

Deno.test("client errors and clients that leave are not failures", async () => {
  await using setup = await breakerSetup({ failureThreshold: 1 }, 400);
  const { backend, gateway } = setup;
  for (let i = 0; i < 3; i++) {
    const response = await postChat(gateway.url);
    assert.equal(response.status, 400);
    await response.body?.cancel();
  }
  assert.equal((await breakerOf(gateway.url)).status, "closed");

  backend.failWith(undefined);
  const hold = new Gate();
  backend.holdNext(hold);
  const controller = new AbortController();
  const leaving = postChat(gateway.url, {}, { signal: controller.signal }).catch(() => undefined);
  const held = await backend.received(4);
  controller.abort();
  await held.aborted;
  await leaving;
  hold.open();
  const breaker = await breakerOf(gateway.url);
  assert.equal(breaker.status, "closed");
  assert.equal(breaker.consecutiveFailures, 0);
});

Deno.test("an instance's own breaker settings override the service's and the global ones", async () => {
  await using strict = await startFakeBackend({ name: "strict", failStatus: 500 });
  await using lenient = await startFakeBackend({ name: "lenient", failStatus: 500 });
  const clock = manualClock();
  await using gateway = await startGateway(
    `server:
  retries: 0
model:
  outlier-detection:
    enabled: false
  circuit-breaker:
    failureThreshold: 1
  services:
    chat:
      circuit-breaker:
        failureThreshold: 3
      instances:
        - name: strict
          base-url: ${strict.url}
          circuit-breaker:
            failureThreshold: 1
        - name: lenient
          base-url: ${lenient.url}
`,
    { now: clock.now },
  );
  for (let i = 0; i < 3; i++) {
    await (await postChat(gateway.url, { model: "strict" })).body?.cancel();
    await (await postChat(gateway.url, { model: "lenient" })).body?.cancel();
  }
  assert.equal(strict.requests.length, 1, "opened after its own threshold of 1");
  assert.equal(lenient.requests.length, 3, "opened after the service's threshold of 3");
});

/**
 * Opens the breaker of a one-instance gateway, lets its timeout pass, and sends a probe the
 * backend never answers: the probe's status and the breaker's state after it.
 */
async function hungProbe(timeouts: { firstByte: number; breaker: number }) {
  await using setup = await breakerSetup(
    { failureThreshold: 1, timeout: timeouts.breaker },
    500,
    timeouts.firstByte,
  );
  const { backend, gateway, clock } = setup;
  await (await postChat(gateway.url)).body?.cancel();
  clock.advance(timeouts.breaker);
  backend.failWith(undefined);
  const never = new Gate();
  backend.holdNext(never);
  try {
    const probe = await postChat(gateway.url);
    await probe.body?.cancel();
    return { status: probe.status, breaker: await breakerOf(gateway.url) };
  } finally {
    never.open();
  }
}

Deno.test("a probe that hangs counts as a failure once the first-byte timeout passes", async () => {
  const { status, breaker } = await hungProbe({ firstByte: 100, breaker: 1_000 });
  assert.equal(status, 504);
  assert.equal(breaker.status, "open", "the hung probe reopened it");
  assert.equal(breaker.probesInFlight, 0);
});

Deno.test("with the first-byte timeout off, a hung probe fails after the breaker's timeout", async () => {
  const { status, breaker } = await hungProbe({ firstByte: 0, breaker: 100 });
  assert.equal(status, 504);
  assert.equal(breaker.status, "open");
});

/**
 * Instances at their `max-concurrency`: further requests wait in the model's queue, in order,
 * until a slot frees; a full queue refuses at once, a wait has a deadline, and a client that
 * leaves the queue is gone for good.
 */
import assert from "node:assert/strict";
import { startFakeBackend } from "./fixtures/fake_backend.ts";
import { eventually, Gate, within } from "./fixtures/gate.ts";
import { startGateway, type TestGateway } from "./fixtures/gateway.ts";
import { postChat, serviceStatus } from "./fixtures/requests.ts";

/** Opens the gates at scope end, so that nothing held outlives a failed test. */
function openedAtScopeEnd(...held: Gate[]): Disposable {
  return { [Symbol.dispose]: () => held.forEach((gate) => gate.open()) };
}

/** One chat model `m` on these backends, each taking one request at a time. */
function cappedChat(urls: readonly string[], queue: { size: number; timeout: number }): string {
  const instances = urls.map((url) =>
    `        - name: m\n          base-url: ${url}\n          max-concurrency: 1\n`
  ).join("");
  return `model:
  services:
    chat:
      queue-size: ${queue.size}
      queue-timeout: ${queue.timeout}
      instances:
${instances}`;
}

/** Polls the status endpoint (real requests, so each try yields) until `waiting` requests wait. */
async function untilWaiting(gateway: TestGateway, waiting: number): Promise<void> {
  await eventually(async () => {
    assert.equal((await serviceStatus(gateway.url)).queues[0]?.waiting, waiting);
  }, 5_000);
}

/** The `content` of the one message a recorded chat request carried. */
function contentOf(body: Uint8Array): string {
  return JSON.parse(new TextDecoder().decode(body)).messages[0].content;
}

const ask = (url: string, content: string, signal?: AbortSignal) =>
  postChat(url, { messages: [{ role: "user", content }] }, signal ? { signal } : {});

Deno.test("a request waits for the busy instance; one more than the queue holds gets a 429", async () => {
  const hold = new Gate();
  await using backend = await startFakeBackend({ hold });
  await using gateway = await startGateway(cappedChat([backend.url], { size: 1, timeout: 10_000 }));
  using _opened = openedAtScopeEnd(hold);

  const first = ask(gateway.url, "one");
  await backend.received(1);
  const secondArrived = backend.received(2).then(() => hold.isOpen);
  const second = ask(gateway.url, "two");
  await untilWaiting(gateway, 1);
  const status = await serviceStatus(gateway.url);
  assert.deepEqual(status.queues, [{ model: "m", waiting: 1, size: 1 }]);
  assert.equal(status.instances[0]!.activeRequests, 1);

  const third = await within(ask(gateway.url, "three"), 2_000, "the third is refused at once");
  assert.equal(third.status, 429);
  assert.match(third.headers.get("retry-after") ?? "", /^\d+$/);
  const { error } = await third.json();
  assert.equal(error.code, "queue_full");
  assert.match(error.message, /"m"/);
  assert.equal(backend.requests.length, 1, "only one request at the backend at a time");

  hold.open();
  const [one, two] = await Promise.all([first, second]);
  assert.equal(one.status, 200);
  assert.equal(two.status, 200);
  await Promise.all([one.body?.cancel(), two.body?.cancel()]);
  assert.equal(await secondArrived, true, "the queued request reached the backend only later");
  assert.deepEqual(backend.requests.map((r) => contentOf(r.body)), ["one", "two"]);
  await eventually(async () => {
    const after = await serviceStatus(gateway.url);
    assert.equal(after.queues[0]!.waiting, 0);
    assert.equal(after.instances[0]!.activeRequests, 0);
  }, 5_000);
});

Deno.test("a request that waits longer than queue-timeout gets a 503", async () => {
  const hold = new Gate();
  await using backend = await startFakeBackend({ hold });
  await using gateway = await startGateway(cappedChat([backend.url], { size: 5, timeout: 50 }));
  using _opened = openedAtScopeEnd(hold);

  const first = ask(gateway.url, "one");
  await backend.received(1);
  const second = await ask(gateway.url, "two");
  assert.equal(second.status, 503);
  assert.match(second.headers.get("retry-after") ?? "", /^\d+$/);
  const { error } = await second.json();
  assert.equal(error.code, "queue_timeout");
  assert.match(error.message, /"m"/);
  assert.equal(hold.isOpen, false, "the first request is still held");
  assert.equal((await serviceStatus(gateway.url)).queues[0]!.waiting, 0);

  hold.open();
  const one = await first;
  assert.equal(one.status, 200);
  await one.body?.cancel();
  assert.equal(backend.requests.length, 1, "the timed-out request never reached the backend");
});

Deno.test("a client that gives up while queued leaves the queue and never reaches the backend", async () => {
  const hold = new Gate();
  await using backend = await startFakeBackend({ hold });
  await using gateway = await startGateway(cappedChat([backend.url], { size: 1, timeout: 10_000 }));
  using _opened = openedAtScopeEnd(hold);

  const first = ask(gateway.url, "one");
  await backend.received(1);
  const controller = new AbortController();
  const leaving = ask(gateway.url, "leaving", controller.signal);
  await untilWaiting(gateway, 1);
  controller.abort();
  await assert.rejects(leaving);
  await untilWaiting(gateway, 0);

  hold.open();
  const one = await first;
  assert.equal(one.status, 200);
  await one.body?.cancel();
  const later = await ask(gateway.url, "later");
  assert.equal(later.status, 200);
  await later.body?.cancel();
  assert.deepEqual(
    backend.requests.map((r) => contentOf(r.body)),
    ["one", "later"],
    "the request that left was never sent",
  );
});

Deno.test("with two instances busy, a queued request goes to whichever frees first", async () => {
  for (const freed of [0, 1]) {
    const holds = [new Gate(), new Gate()];
    await using left = await startFakeBackend({ name: "left", hold: holds[0]! });
    await using right = await startFakeBackend({ name: "right", hold: holds[1]! });
    const backends = [left, right];
    await using gateway = await startGateway(
      cappedChat([left.url, right.url], { size: 1, timeout: 10_000 }),
    );
    using _opened = openedAtScopeEnd(...holds);

    const first = postChat(gateway.url);
    const second = postChat(gateway.url);
    await Promise.all([left.received(1), right.received(1)]);
    const third = postChat(gateway.url);
    await untilWaiting(gateway, 1);
    assert.deepEqual(
      (await serviceStatus(gateway.url)).instances.map((i) => i.activeRequests),
      [1, 1],
    );

    const busy = 1 - freed;
    holds[freed]!.open();
    const served = await third;
    assert.equal(served.status, 200);
    assert.equal((await served.json()).backend, backends[freed]!.name);
    assert.equal(backends[freed]!.requests.length, 2);
    assert.equal(backends[busy]!.requests.length, 1, "the busy instance got nothing more");
    assert.equal(holds[busy]!.isOpen, false);

    holds[busy]!.open();
    const answers = await Promise.all([first, second]);
    assert.deepEqual(answers.map((r) => r.status), [200, 200]);
    const names = await Promise.all(answers.map(async (r) => (await r.json()).backend));
    assert.deepEqual(names.toSorted(), ["left", "right"]);
  }
});

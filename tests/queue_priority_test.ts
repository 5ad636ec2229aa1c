/**
 * The model's queue in front of one instance that takes one request at a time: waiting requests
 * are served by their key's priority class (or the `x-priority` header the key may use), fairly
 * across keys within a class; answers that waited say where they stood and for how long; a
 * full queue's `Retry-After` follows how fast it drains; and an instance with
 * `forward-priority` receives the class as vLLM's `priority` field.
 */
import assert from "node:assert/strict";
import { startFakeBackend } from "./fixtures/fake_backend.ts";
import { eventually, Gate, within } from "./fixtures/gate.ts";
import { startGateway, type TestGateway } from "./fixtures/gateway.ts";
import { postChat, type ServiceStatus } from "./fixtures/requests.ts";
import { adminCall } from "./fixtures/admin.ts";

const KEYS = {
  flood: "sk-flood-0000000000000000",
  quiet: "sk-quiet-0000000000000000",
  vip: "sk-vip-000000000000000000",
  batch: "sk-batch-0000000000000000",
};

/** One chat model `m` on `url`, one request at a time, and four keys. */
function config(url: string, options: { size?: number; timeout?: number; instance?: string }) {
  return `auth:
  enabled: true
  keys:
    - { id: flood, key: ${KEYS.flood} }
    - { id: quiet, key: ${KEYS.quiet} }
    - { id: vip, key: ${KEYS.vip}, priority: high }
    - { id: batch, key: ${KEYS.batch}, priority: low, priority-header: true }
model:
  services:
    chat:
      queue-size: ${options.size ?? 10}
      queue-timeout: ${options.timeout ?? 10_000}
      instances:
        - name: m
          base-url: ${url}
          max-concurrency: 1
${options.instance ?? ""}`;
}

function ask(
  gateway: TestGateway,
  key: keyof typeof KEYS,
  content: string,
  headers: Record<string, string> = {},
): Promise<Response> {
  return postChat(gateway.url, { messages: [{ role: "user", content }] }, {
    headers: { authorization: `Bearer ${KEYS[key]}`, ...headers },
  });
}

async function untilWaiting(gateway: TestGateway, waiting: number): Promise<void> {
  await eventually(async () => {
    const status = await fetch(`${gateway.url}/v1/chat/status`, {
      headers: { authorization: `Bearer ${KEYS.quiet}` },
    });
    const { queues } = await status.json() as ServiceStatus;
    assert.equal(queues[0]?.waiting, waiting);
  }, 5_000);
}

/** The `content` of the one message each recorded request carried, in order of arrival. */
function served(requests: readonly { body: Uint8Array }[]): string[] {
  return requests.map((request) =>
    JSON.parse(new TextDecoder().decode(request.body)).messages[0].content
  );
}

async function drained(responses: Promise<Response>[]): Promise<Response[]> {
  const all = await Promise.all(responses);
  for (const response of all) await response.body?.cancel();
  return all;
}

Deno.test("waiting requests are served by class: high, then normal, then low", async () => {
  const hold = new Gate();
  await using backend = await startFakeBackend({ hold });
  await using gateway = await startGateway(config(backend.url, {}));
  try {
    const pending = [ask(gateway, "flood", "busy")];
    await backend.received(1);
    pending.push(ask(gateway, "batch", "low"));
    await untilWaiting(gateway, 1);
    pending.push(ask(gateway, "quiet", "normal"));
    await untilWaiting(gateway, 2);
    pending.push(ask(gateway, "quiet", "lowered", { "x-priority": "low" }));
    await untilWaiting(gateway, 3);
    pending.push(ask(gateway, "vip", "high"));
    await untilWaiting(gateway, 4);
    pending.push(ask(gateway, "batch", "raised", { "x-priority": "high" }));
    await untilWaiting(gateway, 5);
    hold.open();
    const answers = await drained(pending);
    assert.deepEqual(answers.map((answer) => answer.status), [200, 200, 200, 200, 200, 200]);
    assert.deepEqual(served(backend.requests), [
      "busy",
      "high",
      "raised",
      "normal",
      "low",
      "lowered",
    ]);
  } finally {
    hold.open();
  }
});

Deno.test("a key that floods the queue waits its turn: another key's request goes second", async () => {
  const hold = new Gate();
  await using backend = await startFakeBackend({ hold });
  await using gateway = await startGateway(config(backend.url, {}));
  try {
    const pending = [ask(gateway, "flood", "busy")];
    await backend.received(1);
    for (let index = 1; index <= 4; index++) {
      pending.push(ask(gateway, "flood", `flood ${index}`));
      await untilWaiting(gateway, index);
    }
    pending.push(ask(gateway, "quiet", "quiet"));
    await untilWaiting(gateway, 5);
    hold.open();
    await drained(pending);
    assert.deepEqual(served(backend.requests), [
      "busy",
      "flood 1",
      "quiet",
      "flood 2",
      "flood 3",
      "flood 4",
    ]);
  } finally {
    hold.open();
  }
});

Deno.test("a full queue makes room for another key by turning away the flood's newest", async () => {
  const hold = new Gate();
  await using backend = await startFakeBackend({ hold });
  await using gateway = await startGateway(config(backend.url, { size: 2 }));
  try {
    const busy = ask(gateway, "flood", "busy");
    await backend.received(1);
    const first = ask(gateway, "flood", "flood 1");
    await untilWaiting(gateway, 1);
    const second = ask(gateway, "flood", "flood 2");
    await untilWaiting(gateway, 2);
    const third = await ask(gateway, "flood", "flood 3");
    assert.equal(third.status, 429, "the flood's own next request finds the queue full");
    await third.body?.cancel();
    const quiet = ask(gateway, "quiet", "quiet");
    const pushedOut = await second;
    assert.equal(pushedOut.status, 429);
    assert.equal((await pushedOut.json()).error.code, "queue_full");
    assert.equal(pushedOut.headers.get("x-queue-position"), "2");
    hold.open();
    const answers = await drained([busy, first, quiet]);
    assert.deepEqual(answers.map((answer) => answer.status), [200, 200, 200]);
    assert.deepEqual(served(backend.requests), ["busy", "flood 1", "quiet"]);
  } finally {
    hold.open();
  }
});

Deno.test("x-priority above the key's class needs priority-header; an unknown class is a 400", async () => {
  await using backend = await startFakeBackend();
  await using gateway = await startGateway(config(backend.url, {}));
  const raised = await ask(gateway, "quiet", "raised", { "x-priority": "high" });
  assert.equal(raised.status, 403);
  const { error } = await raised.json();
  assert.equal(error.code, "permission_denied");
  assert.match(error.message, /"quiet" may not raise .* above "normal"/);
  const unknown = await ask(gateway, "batch", "unknown", { "x-priority": "urgent" });
  assert.equal(unknown.status, 400);
  const unknownError = (await unknown.json()).error;
  assert.equal(unknownError.code, "invalid_priority");
  assert.equal(unknownError.type, "invalid_request_error");
  assert.equal(backend.requests.length, 0);
});

Deno.test("an answer that waited says where it stood and how long; one that did not, neither", async () => {
  const hold = new Gate();
  await using backend = await startFakeBackend({ hold });
  await using gateway = await startGateway(config(backend.url, {}));
  try {
    const first = ask(gateway, "flood", "first");
    await backend.received(1);
    const second = ask(gateway, "flood", "second");
    const third = ask(gateway, "quiet", "third");
    await untilWaiting(gateway, 2);
    hold.open();
    const [one, two, three] = await drained([first, second, third]);
    assert.equal(one!.headers.get("x-queue-position"), null);
    assert.equal(one!.headers.get("x-queue-wait-ms"), null);
    assert.equal(two!.headers.get("x-queue-position"), "1");
    assert.equal(three!.headers.get("x-queue-position"), "2");
    for (const waited of [two!, three!]) {
      assert.match(waited.headers.get("x-queue-wait-ms") ?? "", /^\d+$/);
    }
  } finally {
    hold.open();
  }
});

Deno.test("a full queue's Retry-After: the queue timeout before it drained, then its drain rate", async () => {
  const hold = new Gate();
  await using backend = await startFakeBackend({ hold });
  await using gateway = await startGateway(config(backend.url, { size: 1, timeout: 9_000 }));
  try {
    const busy = ask(gateway, "flood", "busy");
    await backend.received(1);
    const waiting = ask(gateway, "flood", "waiting");
    await untilWaiting(gateway, 1);
    const refused = await ask(gateway, "flood", "refused");
    assert.equal(refused.status, 429);
    await refused.body?.cancel();
    assert.equal(refused.headers.get("retry-after"), "9", "not seen to drain: the queue timeout");
    hold.open();
    await drained([busy, waiting]);

    // Requests left the queue within milliseconds: one waiting drains within the second.
    const held = new Gate();
    backend.holdNext(held);
    const next = ask(gateway, "flood", "next");
    await backend.received(3);
    const queued = ask(gateway, "flood", "queued");
    await untilWaiting(gateway, 1);
    const refusedAgain = await ask(gateway, "flood", "refused again");
    assert.equal(refusedAgain.status, 429);
    await refusedAgain.body?.cancel();
    assert.equal(refusedAgain.headers.get("retry-after"), "1");
    held.open();
    await drained([next, queued]);
  } finally {
    hold.open();
  }
});

Deno.test("forward-priority sends the class as vLLM's priority, other bytes untouched", async () => {
  await using backend = await startFakeBackend();
  await using gateway = await startGateway(
    config(backend.url, {
      instance: "          adapter: vllm\n          forward-priority: true\n",
    }),
  );
  const bodies: string[] = [];
  for (
    const [key, headers] of [
      ["vip", {}],
      ["quiet", {}],
      ["quiet", { "x-priority": "low" }],
    ] as const
  ) {
    const answer = await ask(gateway, key, "hi", headers);
    assert.equal(answer.status, 200);
    await answer.body?.cancel();
  }
  const explicit = await postChat(gateway.url, { priority: 7 }, {
    headers: { authorization: `Bearer ${KEYS.vip}` },
  });
  await explicit.body?.cancel();
  for (const request of backend.requests) bodies.push(new TextDecoder().decode(request.body));
  const sent = JSON.stringify({ model: "m", messages: [{ role: "user", content: "hi" }] });
  assert.deepEqual(bodies.slice(0, 3), [
    `{"priority":-1,${sent.slice(1)}`,
    sent,
    `{"priority":1,${sent.slice(1)}`,
  ]);
  assert.equal(JSON.parse(bodies[3]!).priority, 7, "a priority the client set stays");
  assert.equal(backend.requests[0]!.headers.get("content-length"), String(bodies[0]!.length));
});

Deno.test("without forward-priority the body goes on as sent", async () => {
  await using backend = await startFakeBackend();
  await using gateway = await startGateway(
    config(backend.url, { instance: "          adapter: vllm\n" }),
  );
  const answer = await ask(gateway, "vip", "hi");
  await answer.body?.cancel();
  assert.equal(JSON.parse(new TextDecoder().decode(backend.requests[0]!.body)).priority, undefined);
});

Deno.test("keys created through the admin API take priority and priority-header", async () => {
  const adminKey = "admin-key-0000000000000000";
  const hold = new Gate();
  await using backend = await startFakeBackend({ hold });
  await using gateway = await startGateway(config(backend.url, {}), { adminKey });
  try {
    const create = (body: Record<string, unknown>) =>
      adminCall<{ key: string; priority?: string; "priority-header"?: boolean }>(
        gateway.url,
        "POST",
        "/admin/keys",
        { key: adminKey, body },
      );
    const urgent = await create({ id: "urgent", priority: "high" });
    assert.equal(urgent.status, 201, JSON.stringify(urgent.body));
    assert.equal(urgent.body.priority, "high");
    const chooser = await create({ id: "chooser", priority: "low", "priority-header": true });
    assert.equal(chooser.body["priority-header"], true);
    const invalid = await create({ id: "invalid", priority: "urgent" });
    assert.equal(invalid.status, 400);

    const asKey = (key: string, content: string, headers: Record<string, string> = {}) =>
      postChat(gateway.url, { messages: [{ role: "user", content }] }, {
        headers: { authorization: `Bearer ${key}`, ...headers },
      });
    const pending = [ask(gateway, "flood", "busy")];
    await backend.received(1);
    pending.push(asKey(chooser.body.key, "low"));
    await untilWaiting(gateway, 1);
    pending.push(ask(gateway, "quiet", "normal"));
    await untilWaiting(gateway, 2);
    pending.push(asKey(urgent.body.key, "high"));
    await untilWaiting(gateway, 3);
    pending.push(asKey(chooser.body.key, "chosen", { "x-priority": "high" }));
    await untilWaiting(gateway, 4);
    hold.open();
    await drained(pending);
    assert.deepEqual(served(backend.requests), ["busy", "high", "chosen", "normal", "low"]);
  } finally {
    hold.open();
  }
});

Deno.test("a request woken for a slot its own limit keeps it from using passes the slot on", async () => {
  const hold = new Gate();
  await using backend = await startFakeBackend({ hold });
  const perKeyLimit = "          rate-limit: { capacity: 1, rate: 0.001, scope: api-key }\n";
  await using gateway = await startGateway(config(backend.url, { instance: perKeyLimit }));
  try {
    const busy = ask(gateway, "flood", "busy");
    await backend.received(1);
    const first = ask(gateway, "vip", "vip 1");
    await untilWaiting(gateway, 1);
    const second = ask(gateway, "vip", "vip 2");
    await untilWaiting(gateway, 2);
    const quiet = ask(gateway, "quiet", "quiet");
    await untilWaiting(gateway, 3);
    hold.open();
    const [one, two, three] = await within(
      drained([first, second, quiet]),
      5_000,
      "the quiet key's request is served, not left waiting for its timeout",
    );
    assert.equal(one!.status, 200);
    assert.equal(two!.status, 429, "vip's one request a while is used up");
    assert.equal(three!.status, 200);
    await drained([busy]);
    assert.deepEqual(served(backend.requests), ["busy", "vip 1", "quiet"]);
  } finally {
    hold.open();
  }
});

/**
 * A key's and a team's `max-concurrency`: a request over its key's cap waits in the model's
 * queue while other keys' requests go at once, and goes when one of its key's own requests
 * ends; a team's cap is shared by its keys; keys created through the admin API take a cap too.
 */
import assert from "node:assert/strict";
import { startFakeBackend } from "./fixtures/fake_backend.ts";
import { eventually, Gate, within } from "./fixtures/gate.ts";
import { startGateway, type TestGateway } from "./fixtures/gateway.ts";
import { postChat, type ServiceStatus } from "./fixtures/requests.ts";
import { adminCall } from "./fixtures/admin.ts";

const KEYS = {
  capped: "sk-capped-000000000000000",
  other: "sk-other-0000000000000000",
  alpha: "sk-alpha-0000000000000000",
  beta: "sk-beta-00000000000000000",
};

/** One chat model `m` with room for ten at once; `capped` may have one request in flight. */
function config(url: string): string {
  return `auth:
  enabled: true
  teams:
    - { id: crew, max-concurrency: 1 }
  keys:
    - { id: capped, key: ${KEYS.capped}, max-concurrency: 1 }
    - { id: other, key: ${KEYS.other} }
    - { id: alpha, key: ${KEYS.alpha}, team: crew }
    - { id: beta, key: ${KEYS.beta}, team: crew }
model:
  services:
    chat:
      queue-timeout: 10000
      instances:
        - name: m
          base-url: ${url}
          max-concurrency: 10
        - name: m2
          base-url: ${url}
          max-concurrency: 10
`;
}

function ask(
  gateway: TestGateway,
  key: string,
  content: string,
  model = "m",
): Promise<Response> {
  return postChat(gateway.url, { model, messages: [{ role: "user", content }] }, {
    headers: { authorization: `Bearer ${key}` },
  });
}

async function untilWaiting(gateway: TestGateway, waiting: number): Promise<void> {
  await eventually(async () => {
    const status = await fetch(`${gateway.url}/v1/chat/status`, {
      headers: { authorization: `Bearer ${KEYS.other}` },
    });
    const { queues } = await status.json() as ServiceStatus;
    const total = queues.reduce((sum, queue) => sum + queue.waiting, 0);
    assert.equal(total, waiting);
  }, 5_000);
}

/** The `content` of the one message each recorded request carried, in order of arrival. */
function served(requests: readonly { body: Uint8Array }[]): string[] {
  return requests.map((request) =>
    JSON.parse(new TextDecoder().decode(request.body)).messages[0].content
  );
}

async function statuses(responses: Promise<Response>[]): Promise<number[]> {
  const all = await Promise.all(responses);
  for (const response of all) await response.body?.cancel();
  return all.map((response) => response.status);
}

Deno.test("a key at its cap waits while another key's request goes; its own request's end lets it go", async () => {
  const first = new Gate();
  const others = new Gate();
  await using backend = await startFakeBackend();
  await using gateway = await startGateway(config(backend.url));
  try {
    backend.holdNext(first);
    const pending = [ask(gateway, KEYS.capped, "first")];
    await backend.received(1);
    pending.push(ask(gateway, KEYS.capped, "second"));
    await untilWaiting(gateway, 1);
    backend.holdNext(others);
    pending.push(ask(gateway, KEYS.other, "other"));
    await backend.received(2);
    await untilWaiting(gateway, 1);
    // The other key's request still holds its slot: only the capped key's own end frees it.
    first.open();
    await within(backend.received(3), 5_000, "The waiting request did not go");
    assert.deepEqual(served(backend.requests), ["first", "other", "second"]);
    others.open();
    assert.deepEqual(await statuses(pending), [200, 200, 200]);
  } finally {
    first.open();
    others.open();
  }
});

Deno.test("a key waiting at its cap for one model goes when its request to another ends", async () => {
  const first = new Gate();
  await using backend = await startFakeBackend();
  await using gateway = await startGateway(config(backend.url));
  try {
    backend.holdNext(first);
    const pending = [ask(gateway, KEYS.capped, "first", "m")];
    await backend.received(1);
    pending.push(ask(gateway, KEYS.capped, "second", "m2"));
    await untilWaiting(gateway, 1);
    first.open();
    await within(backend.received(2), 5_000, "The waiting request did not go");
    assert.deepEqual(served(backend.requests), ["first", "second"]);
    assert.deepEqual(await statuses(pending), [200, 200]);
  } finally {
    first.open();
  }
});

Deno.test("a team's cap is shared by its keys", async () => {
  const first = new Gate();
  await using backend = await startFakeBackend();
  await using gateway = await startGateway(config(backend.url));
  try {
    backend.holdNext(first);
    const pending = [ask(gateway, KEYS.alpha, "alpha")];
    await backend.received(1);
    pending.push(ask(gateway, KEYS.beta, "beta"));
    await untilWaiting(gateway, 1);
    pending.push(ask(gateway, KEYS.other, "other"));
    await backend.received(2);
    first.open();
    await within(backend.received(3), 5_000, "The waiting request did not go");
    assert.deepEqual(served(backend.requests), ["alpha", "other", "beta"]);
    assert.deepEqual(await statuses(pending), [200, 200, 200]);
  } finally {
    first.open();
  }
});

Deno.test("a key waiting at its cap past the queue timeout gets 503 queue_timeout", async () => {
  const first = new Gate();
  await using backend = await startFakeBackend();
  await using gateway = await startGateway(
    config(backend.url).replace("queue-timeout: 10000", "queue-timeout: 50"),
  );
  try {
    backend.holdNext(first);
    const held = ask(gateway, KEYS.capped, "first");
    await backend.received(1);
    const late = await ask(gateway, KEYS.capped, "second");
    assert.equal(late.status, 503);
    const { error } = await late.json();
    assert.equal(error.code, "queue_timeout");
    assert.equal(
      error.message,
      `The credential "capped" is at its max-concurrency (its key's or its team's): none of its ` +
        `requests ended within 50 ms`,
    );
    first.open();
    assert.deepEqual(await statuses([held]), [200]);
  } finally {
    first.open();
  }
});

Deno.test("keys created or changed through the admin API take max-concurrency", async () => {
  const adminKey = "admin-key-0000000000000000";
  const first = new Gate();
  await using backend = await startFakeBackend();
  await using gateway = await startGateway(config(backend.url), { adminKey });
  try {
    const create = (body: Record<string, unknown>) =>
      adminCall<{ key: string; "max-concurrency"?: number }>(
        gateway.url,
        "POST",
        "/admin/keys",
        { key: adminKey, body },
      );
    const script = await create({ id: "script", "max-concurrency": 1 });
    assert.equal(script.status, 201, JSON.stringify(script.body));
    assert.equal(script.body["max-concurrency"], 1);
    const invalid = await create({ id: "invalid", "max-concurrency": 0 });
    assert.equal(invalid.status, 400);
    const raised = await adminCall<{ "max-concurrency"?: number }>(
      gateway.url,
      "PATCH",
      "/admin/keys/script",
      { key: adminKey, body: { "max-concurrency": 2 } },
    );
    assert.equal(raised.status, 200, JSON.stringify(raised.body));
    assert.equal(raised.body["max-concurrency"], 2);
    const lowered = await adminCall<{ "max-concurrency"?: number }>(
      gateway.url,
      "PATCH",
      "/admin/keys/script",
      { key: adminKey, body: { "max-concurrency": 1 } },
    );
    assert.equal(lowered.body["max-concurrency"], 1);

    backend.holdNext(first);
    const pending = [ask(gateway, script.body.key, "first")];
    await backend.received(1);
    pending.push(ask(gateway, script.body.key, "second"));
    await untilWaiting(gateway, 1);
    pending.push(ask(gateway, KEYS.other, "other"));
    await backend.received(2);
    first.open();
    await within(backend.received(3), 5_000, "The waiting request did not go");
    assert.deepEqual(served(backend.requests), ["first", "other", "second"]);
    assert.deepEqual(await statuses(pending), [200, 200, 200]);
  } finally {
    first.open();
  }
});

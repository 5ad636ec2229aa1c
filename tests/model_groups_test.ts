/**
 * Model groups: a name a client sends as `model` that stands for several models. The gateway
 * picks the best member by quality, cost and measured latency, sends the request with that
 * member's name, says which served it, and fails over to the next member.
 */
import assert from "node:assert/strict";
import { type FakeBackend, startFakeBackend } from "./fixtures/fake_backend.ts";
import { Gate } from "./fixtures/gate.ts";
import { startGateway } from "./fixtures/gateway.ts";
import { postChat } from "./fixtures/requests.ts";

const decoder = new TextDecoder();
/** Each member's one instance is tried once. */
const NO_RETRIES = "server:\n  retries: 0\n";

/** Models `big` (good, dear) and `small` (fair, cheap), and groups weighing them two ways. */
function groupsConfig(big: string, small: string, extra = "", server = ""): string {
  return `${server}model:
  services:
    chat:
      instances:
        - name: big
          base-url: ${big}
          price: { input: 3, output: 15 }
        - name: small
          base-url: ${small}
          price: { input: 0.1, output: 0.2 }
model-groups:
  best:
    members:
      - { model: small, quality: 0.5 }
      - { model: big, quality: 0.9 }
    weights: { quality: 1, cost: 0, latency: 0 }
  thrifty:
    members:
      - { model: big, quality: 0.9 }
      - { model: small, quality: 0.5 }
    weights: { quality: 0.2, cost: 1, latency: 0 }
${extra}`;
}

/** The model name the backend's `n`th request carried. */
async function sentModel(backend: FakeBackend, n: number): Promise<string> {
  const request = await backend.received(n);
  return JSON.parse(decoder.decode(request.body)).model;
}

Deno.test("a group's weights choose its member; the answer names it and keeps the backend's model", async () => {
  await using big = await startFakeBackend({ name: "big" });
  await using small = await startFakeBackend({ name: "small" });
  await using gateway = await startGateway(groupsConfig(big.url, small.url));

  const best = await postChat(gateway.url, { model: "best" });
  assert.equal(best.status, 200);
  assert.equal(best.headers.get("x-switchyard-model"), "big");
  const answer = await best.json();
  assert.equal(answer.backend, "big");
  assert.equal(answer.model, "big", "the backend's own model field, unchanged");
  assert.equal(await sentModel(big, 1), "big", "the upstream request names the member");

  const thrifty = await postChat(gateway.url, { model: "thrifty" });
  assert.equal(thrifty.headers.get("x-switchyard-model"), "small");
  assert.equal((await thrifty.json()).backend, "small");
  assert.equal(await sentModel(small, 1), "small");

  const streamed = await postChat(gateway.url, { model: "best", stream: true });
  assert.equal(streamed.headers.get("x-switchyard-model"), "big", "a stream's head says too");
  assert.match(await streamed.text(), /data: \[DONE\]/);

  const plain = await postChat(gateway.url, { model: "small" });
  assert.equal(plain.headers.get("x-switchyard-model"), null, "only a group's answer says");
  await plain.body?.cancel();
});

Deno.test("when the chosen member fails, the next best serves", async () => {
  await using big = await startFakeBackend({ name: "big", failStatus: 500 });
  await using small = await startFakeBackend({ name: "small" });
  await using gateway = await startGateway(groupsConfig(big.url, small.url, "", NO_RETRIES));
  const response = await postChat(gateway.url, { model: "best" });
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("x-switchyard-model"), "small");
  assert.equal((await response.json()).backend, "small");
  assert.equal(big.requests.length, 1, "the best member was tried first");
});

Deno.test("when every member fails, the last backend's error comes back", async () => {
  await using big = await startFakeBackend({ name: "big", failStatus: 500 });
  await using small = await startFakeBackend({ name: "small", failStatus: 503 });
  await using gateway = await startGateway(groupsConfig(big.url, small.url, "", NO_RETRIES));
  const response = await postChat(gateway.url, { model: "best" });
  assert.equal(response.status, 503);
  await response.body?.cancel();
  assert.deepEqual([big.requests.length, small.requests.length], [1, 1]);
});

Deno.test("a member measured slower than an equal one is passed over", async () => {
  await using first = await startFakeBackend({ name: "first" });
  await using second = await startFakeBackend({ name: "second" });
  await using gateway = await startGateway(`model:
  services:
    chat:
      instances:
        - { name: one, base-url: "${first.url}" }
        - { name: two, base-url: "${second.url}" }
model-groups:
  quick:
    members:
      - { model: one, quality: 0.8 }
      - { model: two, quality: 0.8 }
    weights: { quality: 0, cost: 0, latency: 1 }
`);
  // Neither is measured: they tie, and the first listed serves, slowly.
  const slow = new Gate();
  first.holdNext(slow);
  const answered = postChat(gateway.url, { model: "quick" });
  await first.received(1);
  const timer = setTimeout(() => slow.open(), 200);
  try {
    assert.equal((await answered).headers.get("x-switchyard-model"), "one");
  } finally {
    clearTimeout(timer);
  }
  // `two`, not measured yet, counts as faster than `one`; once measured, it still is.
  for (let i = 0; i < 3; i++) {
    const response = await postChat(gateway.url, { model: "quick" });
    assert.equal(response.headers.get("x-switchyard-model"), "two");
    await response.body?.cancel();
  }
  assert.equal(first.requests.length, 1);
});

Deno.test("a group is listed in GET /v1/models and served on the derived APIs", async () => {
  await using big = await startFakeBackend({ name: "big" });
  await using small = await startFakeBackend({ name: "small" });
  await using gateway = await startGateway(groupsConfig(big.url, small.url));
  const models = await (await fetch(`${gateway.url}/v1/models`)).json();
  const ids = models.data.map((model: { id: string }) => model.id);
  assert.ok(ids.includes("best") && ids.includes("thrifty"), `listed: ${ids.join(", ")}`);

  const completion = await fetch(`${gateway.url}/v1/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "thrifty", prompt: "Hi" }),
  });
  assert.equal(completion.status, 200);
  assert.equal(completion.headers.get("x-switchyard-model"), "small");
  await completion.body?.cancel();
  const messages = await fetch(`${gateway.url}/v1/messages`, {
    method: "POST",
    headers: { "content-type": "application/json", "anthropic-version": "2023-06-01" },
    body: JSON.stringify({
      model: "best",
      max_tokens: 16,
      messages: [{ role: "user", content: "Hi" }],
    }),
  });
  assert.equal(messages.status, 200);
  assert.equal(messages.headers.get("x-switchyard-model"), "big");
  await messages.body?.cancel();
});

Deno.test("a group member no instance serves is a config error naming it", async () => {
  await assert.rejects(
    startGateway(groupsConfig(
      "http://127.0.0.1:1",
      "http://127.0.0.1:2",
      `  broken:
    members:
      - { model: huge, quality: 1 }
`,
    )),
    /model-groups\.broken\.members\[0\]\.model.*"huge", which no instance serves/s,
  );
  await assert.rejects(
    startGateway(groupsConfig(
      "http://127.0.0.1:1",
      "http://127.0.0.1:2",
      `  small:
    members:
      - { model: big, quality: 1 }
`,
    )),
    /Model group "small" has the name of a model instances serve/,
  );
});

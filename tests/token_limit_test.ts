/**
 * Token limits as a client meets them: requests reserve their estimated tokens (prompt bytes
 * ÷ 4, inline image data left out, plus `max_tokens`) and settle with the backend's `usage`;
 * refusals are 429s with OpenAI's `x-ratelimit-*-tokens` headers; streams ask the backend for
 * usage, hiding its extra event from a client that did not ask. The gateway's clock is a number
 * the test moves.
 */
import assert from "node:assert/strict";
import { manualClock } from "./fixtures/clock.ts";
import { startFakeBackend } from "./fixtures/fake_backend.ts";
import { eventually, Gate, gates, within } from "./fixtures/gate.ts";
import { startGateway, type TestGateway } from "./fixtures/gateway.ts";

const MAX_TOKENS = 60;
/** The client's body, and what the gateway estimates it at. */
function chatBody(fields: Record<string, unknown> = {}): { body: string; estimate: number } {
  const body = JSON.stringify({
    model: "m",
    messages: [{ role: "user", content: "Hi" }],
    max_tokens: MAX_TOKENS,
    ...fields,
  });
  return { body, estimate: Math.ceil(new TextEncoder().encode(body).byteLength / 4) + MAX_TOKENS };
}

function post(
  gateway: TestGateway,
  fields: Record<string, unknown> = {},
  init: { headers?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<Response> {
  return fetch(`${gateway.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...init.headers },
    body: chatBody(fields).body,
    ...(init.signal ? { signal: init.signal } : {}),
  });
}

function chatWithLimit(url: string, limit: string, global = ""): string {
  return `model:
${global}  services:
    chat:
      rate-limit:
${limit}
      instances:
        - name: m
          base-url: ${url}
`;
}

/** Waits until the gateway finished `n` requests: their tokens are settled by then. */
async function finished(gateway: TestGateway, n: number): Promise<void> {
  await eventually(async () => {
    const status = await (await fetch(`${gateway.url}/status.json`)).json();
    assert.equal(status.totals.requests, n);
  }, 2000);
}

/** The usage the fake backend reports for a chat answer: 3 prompt and 3 answer tokens. */
const USED = 6;

Deno.test("a token limit refuses past its budget with 429 and OpenAI's token headers, and settles with usage", async () => {
  await using backend = await startFakeBackend();
  const clock = manualClock();
  await using gateway = await startGateway(
    chatWithLimit(backend.url, `        tokens-per-minute: 100\n        scope: service`),
    { now: clock.now },
  );
  const { estimate } = chatBody();
  assert.ok(estimate > 50 && estimate < 100, `estimate ${estimate}`);

  const first = await post(gateway);
  assert.equal(first.status, 200);
  await first.body?.cancel();
  assert.equal(first.headers.get("x-ratelimit-limit-tokens"), "100");
  assert.equal(first.headers.get("x-ratelimit-remaining-tokens"), String(100 - estimate));
  assert.equal(first.headers.get("x-ratelimit-limit-requests"), null, "no request limit set");
  await finished(gateway, 1);

  // The answer used 6 tokens: the rest of the estimate came back, so another fits.
  const second = await post(gateway);
  assert.equal(second.status, 200, "settling with usage made room");
  await second.body?.cancel();
  assert.equal(second.headers.get("x-ratelimit-remaining-tokens"), String(100 - USED - estimate));
  await finished(gateway, 2);

  // A third answer is held: its estimate stays reserved while the fourth asks.
  const hold = new Gate();
  backend.holdNext(hold);
  const third = post(gateway);
  await backend.received(3);
  try {
    const left = 100 - 2 * USED - estimate;
    const refused = await post(gateway);
    assert.equal(refused.status, 429);
    assert.equal(refused.headers.get("x-ratelimit-limit-tokens"), "100");
    assert.equal(refused.headers.get("x-ratelimit-remaining-tokens"), String(left));
    assert.equal(refused.headers.get("x-ratelimit-reset-tokens"), `${(100 - left) * 0.6}s`);
    const wait = (estimate - left) * 600;
    assert.equal(refused.headers.get("retry-after"), String(Math.ceil(wait / 1000)));
    const error = (await refused.json()).error;
    assert.equal(error.code, "rate_limit_exceeded");
    assert.equal(error.type, "tokens");
    assert.equal(
      error.message,
      `Rate limit reached for this service: 100 total tokens per minute; this request is ` +
        `estimated at ${estimate} and ${left} are left. Retry in ${Math.ceil(wait / 1000)} s.`,
    );
    assert.equal(backend.requests.length, 3, "a refused request never reaches the backend");

    clock.advance(wait - 1);
    const early = await post(gateway);
    assert.equal(early.status, 429, "not enough tokens yet");
    await early.body?.cancel();
    clock.advance(1);
    const refilled = await post(gateway);
    assert.equal(refilled.status, 200, "the budget refills at tokens-per-minute");
    await refilled.body?.cancel();
  } finally {
    hold.open();
    await (await third).body?.cancel();
  }
});

Deno.test("an inline image's data reserves no prompt tokens: a large image fits a small limit", async () => {
  await using backend = await startFakeBackend();
  const clock = manualClock();
  await using gateway = await startGateway(
    chatWithLimit(backend.url, `        tokens-per-minute: 100\n        scope: service`),
    { now: clock.now },
  );
  const image = `data:image/png;base64,${"A".repeat(200_000)}`;
  const messages = [{
    role: "user",
    content: [{ type: "text", text: "Hi" }, { type: "image_url", image_url: { url: image } }],
  }];
  const response = await post(gateway, { messages });
  assert.equal(response.status, 200, "50,000 tokens of base64 are not reserved");
  await response.body?.cancel();
  const remaining = Number(response.headers.get("x-ratelimit-remaining-tokens"));
  assert.ok(remaining > 0 && remaining < 100 - MAX_TOKENS, String(remaining));
});

Deno.test("a stream the client did not ask usage of asks the backend, and hides the usage event", async () => {
  await using backend = await startFakeBackend();
  const clock = manualClock();
  await using gateway = await startGateway(
    chatWithLimit(backend.url, `        tokens-per-minute: 100`),
    { now: clock.now },
  );
  const { estimate } = chatBody({ stream: true });
  const response = await post(gateway, { stream: true });
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("x-ratelimit-remaining-tokens"), String(100 - estimate));
  const text = await response.text();
  const sent = JSON.parse(new TextDecoder().decode(backend.requests[0]!.body));
  assert.deepEqual(sent.stream_options, { include_usage: true }, "the backend was asked");
  assert.equal(sent.max_tokens, MAX_TOKENS, "the rest of the body went on");
  assert.doesNotMatch(text, /usage/, "the client never sees the usage it did not ask for");
  assert.deepEqual(
    text.split("\n\n").filter((event) => event !== "").map((event) =>
      event === "data: [DONE]" ? "[DONE]" : JSON.parse(event.slice(6)).choices[0].delta.content
    ),
    ["Hel", "lo", "!", "[DONE]"],
  );
  await finished(gateway, 1);

  // Settled with the stream's usage (6 tokens): room for another estimate.
  const second = await post(gateway, { stream: true });
  assert.equal(second.status, 200, "the stream's usage settled its tokens");
  assert.equal(second.headers.get("x-ratelimit-remaining-tokens"), String(100 - USED - estimate));
  await second.body?.cancel();
});

Deno.test("a stream whose client asked for usage is sent as it is and keeps its usage event", async () => {
  await using backend = await startFakeBackend();
  await using gateway = await startGateway(
    chatWithLimit(backend.url, `        tokens-per-minute: 100`),
  );
  const fields = { stream: true, stream_options: { include_usage: true } };
  const response = await post(gateway, fields);
  assert.equal(response.status, 200);
  const text = await response.text();
  assert.equal(
    new TextDecoder().decode(backend.requests[0]!.body),
    chatBody(fields).body,
    "the client's bytes go on unchanged",
  );
  assert.match(text, /"choices":\[\],"usage":\{"prompt_tokens":3,"completion_tokens":3\}/);
  assert.match(text, /data: \[DONE\]\n\n$/);
});

Deno.test("a stream without a token limit is sent as the client wrote it", async () => {
  await using backend = await startFakeBackend();
  await using gateway = await startGateway(
    chatWithLimit(backend.url, `        capacity: 10\n        rate: 1`),
  );
  const response = await post(gateway, { stream: true });
  assert.equal(response.status, 200);
  await response.text();
  assert.equal(
    new TextDecoder().decode(backend.requests[0]!.body),
    chatBody({ stream: true }).body,
  );
  assert.equal(response.headers.get("x-ratelimit-limit-tokens"), null);
  assert.equal(response.headers.get("x-ratelimit-limit-requests"), "10");
});

Deno.test("an api-key token limit keeps clients apart; a global one counts them together", async () => {
  await using backend = await startFakeBackend();
  const clock = manualClock();
  const { estimate } = chatBody();
  // Room for two estimates: Bob's answer may settle (to 6) before Carol asks, or not yet.
  const globalBudget = 2 * estimate + 3;
  await using gateway = await startGateway(
    chatWithLimit(
      backend.url,
      `        tokens-per-minute: 100\n        scope: api-key`,
      `  rate-limit:\n    tokens-per-minute: ${globalBudget}\n    scope: global\n`,
    ),
    { now: clock.now },
  );
  const key = (name: string) => ({ headers: { authorization: `Bearer ${name}` } });
  // Alice's first answer is held: her estimate stays reserved.
  const hold = new Gate();
  backend.holdNext(hold);
  const alice = post(gateway, {}, key("sk-alice"));
  await backend.received(1);
  try {
    const aliceAgain = await post(gateway, {}, key("sk-alice"));
    assert.equal(aliceAgain.status, 429, "her own budget lacks room");
    assert.match((await aliceAgain.json()).error.message, /for your API key: 100 total tokens/);
    const bob = await post(gateway, {}, key("sk-bob"));
    assert.equal(bob.status, 200, "another key has its own budget");
    assert.equal(bob.headers.get("x-ratelimit-remaining-tokens"), "3", "the tightest budget");
    assert.equal(bob.headers.get("x-ratelimit-limit-tokens"), String(globalBudget));
    await bob.body?.cancel();
    const carol = await post(gateway, {}, key("sk-carol"));
    assert.equal(carol.status, 429, "all keys together are over the global budget");
    assert.match((await carol.json()).error.message, /for all clients together/);
    assert.equal(carol.headers.get("x-ratelimit-limit-tokens"), String(globalBudget));
  } finally {
    hold.open();
  }
  const aliceAnswer = await alice;
  assert.equal(aliceAnswer.status, 200);
  await aliceAnswer.body?.cancel();
  assert.equal(backend.requests.length, 2);
});

Deno.test("a client leaving mid-stream keeps its estimate; a failed request gives it back", async () => {
  const held = gates(5);
  held[0]!.open();
  await using backend = await startFakeBackend({
    stream: { tokens: ["a", "b", "c"], gates: held },
  });
  const clock = manualClock();
  await using gateway = await startGateway(
    chatWithLimit(backend.url, `        tokens-per-minute: 100\n      retry:\n        count: 0`),
    { now: clock.now },
  );
  const { estimate } = chatBody({ stream: true });
  const controller = new AbortController();
  const response = await post(gateway, { stream: true }, { signal: controller.signal });
  const reader = response.body!.getReader();
  assert.match(new TextDecoder().decode((await reader.read()).value), /"content":"a"/);
  controller.abort();
  await reader.read().catch(() => {});
  await within(backend.requests[0]!.aborted, 2000, "the backend saw its stream aborted");
  await finished(gateway, 1);
  const refused = await post(gateway);
  assert.equal(refused.status, 429, "the cut stream's usage is unknown: its estimate is kept");
  assert.equal(refused.headers.get("x-ratelimit-remaining-tokens"), String(100 - estimate));
  await refused.body?.cancel();

  clock.advance(60_000);
  backend.failWith(500);
  const failed = await post(gateway);
  assert.equal(failed.status, 500);
  await failed.body?.cancel();
  await finished(gateway, 3);
  backend.failWith(undefined);
  const after = await post(gateway);
  assert.equal(after.status, 200, "the failed request gave its tokens back");
  assert.equal(
    after.headers.get("x-ratelimit-remaining-tokens"),
    String(100 - chatBody().estimate),
  );
  await after.body?.cancel();
});

Deno.test("a key's own token limit refuses that key only", async () => {
  await using backend = await startFakeBackend();
  const alpha = "sk-test-alpha-0123456789abcdefghijklmnop";
  const bravo = "sk-test-bravo-0123456789abcdefghijklmnop";
  await using gateway = await startGateway(JSON.stringify({
    auth: {
      enabled: true,
      keys: [
        { id: "limited", key: alpha, "rate-limit": { "tokens-per-minute": 100 } },
        { id: "free", key: bravo },
      ],
    },
    model: { services: { chat: { instances: [{ name: "m", "base-url": backend.url }] } } },
  }));
  const hold = new Gate();
  backend.holdNext(hold);
  const first = post(gateway, {}, { headers: { authorization: `Bearer ${alpha}` } });
  await backend.received(1);
  try {
    const refused = await post(gateway, {}, { headers: { authorization: `Bearer ${alpha}` } });
    assert.equal(refused.status, 429);
    const error = (await refused.json()).error;
    assert.equal(error.type, "tokens");
    assert.match(error.message, /for your API key: 100 total tokens per minute/);
    for (let i = 0; i < 3; i++) {
      const free = await post(gateway, {}, { headers: { authorization: `Bearer ${bravo}` } });
      assert.equal(free.status, 200);
      assert.equal(free.headers.get("x-ratelimit-limit-tokens"), null, "no token limit on it");
      await free.body?.cancel();
    }
  } finally {
    hold.open();
  }
  const answer = await first;
  assert.equal(answer.status, 200);
  assert.equal(answer.headers.get("x-ratelimit-limit-tokens"), "100");
  await answer.body?.cancel();
});

Deno.test("an instance over its token limit is skipped; when every one is, 429 with token headers", async () => {
  await using small = await startFakeBackend({ name: "small" });
  await using big = await startFakeBackend({ name: "big" });
  const clock = manualClock();
  const { estimate } = chatBody({ stream: true });
  await using gateway = await startGateway(
    `model:
  services:
    chat:
      load-balance: { type: round-robin }
      retry: { count: 0 }
      instances:
        - name: m
          base-url: ${small.url}
          rate-limit: { tokens-per-minute: 100 }
        - name: m
          base-url: ${big.url}
          rate-limit: { tokens-per-minute: ${estimate + 50} }
`,
    { now: clock.now },
  );
  // Both answers are held: their estimates stay reserved.
  const holdSmall = new Gate();
  const holdBig = new Gate();
  small.holdNext(holdSmall);
  big.holdNext(holdBig);
  const first = post(gateway, { stream: true });
  const second = post(gateway, { stream: true });
  await small.received(1);
  await big.received(1);
  try {
    const refused = await post(gateway, { stream: true });
    assert.equal(refused.status, 429, "neither instance has room for the estimate");
    assert.equal((await refused.json()).error.type, "tokens");
    assert.equal(refused.headers.get("x-ratelimit-limit-tokens"), String(estimate + 50));
    assert.equal(refused.headers.get("x-ratelimit-remaining-tokens"), "50");
  } finally {
    holdSmall.open();
    holdBig.open();
  }
  for (const pending of [first, second]) {
    const response = await pending;
    assert.equal(response.status, 200);
    assert.doesNotMatch(await response.text(), /usage/, "the usage asked for is hidden");
  }
  const sent = JSON.parse(new TextDecoder().decode(small.requests[0]!.body));
  assert.deepEqual(sent.stream_options, { include_usage: true }, "an instance limit asks too");
  await finished(gateway, 3);

  // Both settled with usage (6 tokens each): each instance has room for one more.
  const remaining: string[] = [];
  for (let i = 0; i < 2; i++) {
    const again = await post(gateway, { stream: true });
    assert.equal(again.status, 200, "settling with usage made room");
    remaining.push(again.headers.get("x-ratelimit-remaining-tokens")!);
    await again.text();
    await finished(gateway, 4 + i);
  }
  assert.deepEqual(
    remaining.toSorted(),
    [String(100 - USED - estimate), String(50 - USED)].toSorted(),
  );
  assert.equal(small.requests.length, 2);
  assert.equal(big.requests.length, 2);
});

Deno.test("an instance's tokens go back when its attempt fails and another answers", async () => {
  await using failing = await startFakeBackend({ name: "failing", failStatus: 500 });
  await using other = await startFakeBackend({ name: "other" });
  const { estimate } = chatBody();
  await using gateway = await startGateway(
    `model:
  services:
    chat:
      load-balance: { type: round-robin }
      retry: { count: 1, base-delay: 1, max-delay: 1 }
      instances:
        - name: m
          base-url: ${failing.url}
          rate-limit: { tokens-per-minute: ${estimate + 10} }
        - name: m
          base-url: ${other.url}
`,
    { now: manualClock().now },
  );
  const retried = await post(gateway);
  assert.equal(retried.status, 200);
  assert.equal((await retried.json()).backend, "other");
  assert.equal(failing.requests.length, 1, "the first attempt went to the failing instance");
  assert.equal(
    retried.headers.get("x-ratelimit-limit-tokens"),
    null,
    "the instance that answered has no token limit",
  );
  await finished(gateway, 1);

  failing.failWith(undefined);
  const answers = [await post(gateway), await post(gateway)];
  const byBackend = new Map<string, Response>();
  for (const answer of answers) {
    assert.equal(answer.status, 200);
    byBackend.set((await answer.json()).backend, answer);
  }
  const recovered = byBackend.get("failing");
  assert.ok(recovered, "the instance had room again: its failed attempt gave its tokens back");
  assert.equal(recovered.headers.get("x-ratelimit-remaining-tokens"), "10");
});

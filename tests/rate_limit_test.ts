/**
 * Rate limits as a client meets them: exact 429s with OpenAI's and the IETF draft's headers,
 * budgets on successful answers, clients kept apart, and instances over their own limit
 * skipped. The gateway's clock is a number the test moves.
 */
import assert from "node:assert/strict";
import OpenAI from "openai";
import { manualClock } from "./fixtures/clock.ts";
import { startFakeBackend } from "./fixtures/fake_backend.ts";
import { startGateway } from "./fixtures/gateway.ts";
import { postChat, serviceStatus } from "./fixtures/requests.ts";

function chatWithLimit(url: string, limit: string, extra = ""): string {
  return `model:
  services:
    chat:
      rate-limit:
${limit}
      instances:
        - name: m
          base-url: ${url}
${extra}`;
}

function post(baseUrl: string, headers: Record<string, string> = {}): Promise<Response> {
  return postChat(baseUrl, {}, { headers });
}

Deno.test("a token bucket admits its capacity, then 429s with exact headers, then refills", async () => {
  await using backend = await startFakeBackend();
  const clock = manualClock();
  await using gateway = await startGateway(
    chatWithLimit(
      backend.url,
      `        algorithm: token-bucket
        capacity: 3
        rate: 1
        scope: service`,
    ),
    { now: clock.now },
  );
  for (const remaining of [2, 1, 0]) {
    const response = await post(gateway.url);
    assert.equal(response.status, 200);
    await response.body?.cancel();
    assert.equal(response.headers.get("x-ratelimit-limit-requests"), "3");
    assert.equal(response.headers.get("x-ratelimit-remaining-requests"), String(remaining));
    assert.equal(response.headers.get("ratelimit-policy"), `"service";q=3;w=3`);
    assert.equal(response.headers.get("ratelimit"), `"service";r=${remaining};t=${3 - remaining}`);
  }
  const refused = await post(gateway.url);
  assert.equal(refused.status, 429);
  assert.equal(refused.headers.get("retry-after"), "1");
  assert.equal(refused.headers.get("x-ratelimit-limit-requests"), "3");
  assert.equal(refused.headers.get("x-ratelimit-remaining-requests"), "0");
  assert.equal(refused.headers.get("x-ratelimit-reset-requests"), "3s");
  assert.equal(refused.headers.get("ratelimit-policy"), `"service";q=3;w=3`);
  assert.equal(refused.headers.get("ratelimit"), `"service";r=0;t=3`);
  const error = (await refused.json()).error;
  assert.equal(error.code, "rate_limit_exceeded");
  assert.equal(error.type, "requests");
  assert.equal(
    error.message,
    "Rate limit reached for this service: bursts of 3, then 1 requests per second " +
      "(token-bucket). Retry in 1 s.",
  );
  assert.equal(backend.requests.length, 3, "a refused request never reaches the backend");

  clock.advance(999);
  assert.equal((await post(gateway.url)).status, 429, "not a whole token yet");
  clock.advance(1);
  const refilled = await post(gateway.url);
  assert.equal(refilled.status, 200);
  await refilled.body?.cancel();
  assert.equal(backend.requests.length, 4);
});

Deno.test("a flood gets exactly capacity answers and 429s for the rest", async () => {
  await using backend = await startFakeBackend();
  const clock = manualClock();
  await using gateway = await startGateway(
    chatWithLimit(
      backend.url,
      `        capacity: 10
        rate: 1`,
    ),
    { now: clock.now },
  );
  const responses = await Promise.all(Array.from({ length: 50 }, () => post(gateway.url)));
  const statuses = responses.map((response) => response.status);
  await Promise.all(responses.map((response) => response.body?.cancel()));
  assert.equal(statuses.filter((status) => status === 200).length, 10);
  assert.equal(statuses.filter((status) => status === 429).length, 40);
  assert.equal(backend.requests.length, 10);
});

Deno.test("an api-key limit keeps clients apart, whether or not the key is checked", async () => {
  await using backend = await startFakeBackend();
  const clock = manualClock();
  await using gateway = await startGateway(
    chatWithLimit(
      backend.url,
      `        capacity: 2
        rate: 1
        scope: api-key`,
    ),
    { now: clock.now },
  );
  const alice = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: "sk-alice", maxRetries: 0 });
  const bob = { "x-api-key": "sk-bob" };
  await alice.chat.completions.create({ model: "m", messages: [] });
  await alice.chat.completions.create({ model: "m", messages: [] });
  await assert.rejects(
    () => alice.chat.completions.create({ model: "m", messages: [] }),
    (error: unknown) => error instanceof OpenAI.RateLimitError,
  );
  for (let i = 0; i < 2; i++) {
    const response = await post(gateway.url, bob);
    assert.equal(response.status, 200, "another key has its own budget");
    await response.body?.cancel();
  }
  assert.equal((await post(gateway.url, bob)).status, 429);
  const anonymous = await post(gateway.url);
  assert.equal(anonymous.status, 200, "requests without a key share one budget of their own");
  await anonymous.body?.cancel();
});

Deno.test("a global-scope limit counts every service's requests together", async () => {
  await using backend = await startFakeBackend();
  const clock = manualClock();
  await using gateway = await startGateway(
    `model:
  rate-limit:
    capacity: 2
    rate: 1
    scope: global
  services:
    chat:
      instances:
        - name: m
          base-url: ${backend.url}
    embedding:
      instances:
        - name: e
          base-url: ${backend.url}
`,
    { now: clock.now },
  );
  const embed = () =>
    fetch(`${gateway.url}/v1/embeddings`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "e", input: "x" }),
    });
  assert.equal((await post(gateway.url)).status, 200);
  assert.equal((await embed()).status, 200);
  const refused = await embed();
  assert.equal(refused.status, 429);
  assert.equal(refused.headers.get("ratelimit-policy"), `"global";q=2;w=2`);
});

Deno.test("an instance over its own limit is skipped; only when all are over is it a 429", async () => {
  await using first = await startFakeBackend({ name: "first" });
  await using second = await startFakeBackend({ name: "second" });
  const clock = manualClock();
  const limit = `          rate-limit:
            capacity: 1
            rate: 0.5
            scope: instance
`;
  await using gateway = await startGateway(
    `model:
  services:
    chat:
      load-balance:
        type: round-robin
      instances:
        - name: m
          base-url: ${first.url}
${limit}        - name: m
          base-url: ${second.url}
`,
    { now: clock.now },
  );
  const backends: string[] = [];
  for (let i = 0; i < 3; i++) {
    const response = await postChat(gateway.url);
    assert.equal(response.status, 200);
    backends.push((await response.json()).backend);
  }
  assert.deepEqual(backends, ["first", "second", "second"], "first is over its limit");
  const status = await serviceStatus(gateway.url);
  assert.deepEqual(status.instances[0]?.limits[0], {
    policy: `instance:m@${first.url}/v1/chat/completions`,
    scope: "instance",
    algorithm: "token-bucket",
    capacity: 1,
    rate: 0.5,
    trackedKeys: 1,
    remaining: 0,
  });
  clock.advance(2_000);
  const after: string[] = [];
  for (let i = 0; i < 2; i++) after.push((await (await postChat(gateway.url)).json()).backend);
  assert.ok(after.includes("first"), "back once it refilled");
});

Deno.test("when every instance is over its limit the client gets a 429 naming the wait", async () => {
  await using only = await startFakeBackend();
  const clock = manualClock();
  await using gateway = await startGateway(
    `model:
  services:
    chat:
      instances:
        - name: m
          base-url: ${only.url}
          rate-limit:
            algorithm: sliding-window
            capacity: 2
            window: 10000
`,
    { now: clock.now },
  );
  assert.equal((await postChat(gateway.url)).status, 200);
  clock.advance(4_000);
  assert.equal((await postChat(gateway.url)).status, 200);
  const refused = await postChat(gateway.url);
  assert.equal(refused.status, 429);
  assert.equal(refused.headers.get("retry-after"), "6", "the first request leaves the window");
  assert.equal(refused.headers.get("ratelimit-policy"), `"instance";q=2;w=10`);
  assert.equal((await refused.json()).error.code, "rate_limit_exceeded");
  clock.advance(6_000);
  assert.equal((await postChat(gateway.url)).status, 200);
  assert.equal(only.requests.length, 3);
});

Deno.test("a leaky bucket spaces requests out at its rate instead of refusing them", async () => {
  await using backend = await startFakeBackend();
  const clock = manualClock();
  await using gateway = await startGateway(
    chatWithLimit(
      backend.url,
      `        algorithm: leaky-bucket
        capacity: 2
        rate: 20`,
    ),
    { now: clock.now },
  );
  const [first, second, third] = await Promise.all([
    post(gateway.url),
    post(gateway.url),
    post(gateway.url),
  ]);
  assert.equal(first!.status, 200);
  assert.equal(second!.status, 200, "queued for 50 ms, then sent");
  assert.equal(third!.status, 429, "the bucket holds two");
  assert.equal(third!.headers.get("retry-after"), "1");
  await Promise.all([first!.body?.cancel(), second!.body?.cancel(), third!.body?.cancel()]);
  assert.equal(backend.requests.length, 2);
});

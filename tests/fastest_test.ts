/**
 * `fastest` against backends whose answer delay the test sets: most traffic goes to the one
 * that answers first, the other still gets probes, and traffic follows a backend that turns
 * slow.
 */
import assert from "node:assert/strict";
import { RELEARN_AFTER } from "../src/balancer/fastest.ts";
import { seededRandom } from "../src/lib/seeded_random.ts";
import { manualClock } from "./fixtures/clock.ts";
import { oneService, startGateway, type TestGateway } from "./fixtures/gateway.ts";
import { postChat } from "./fixtures/requests.ts";
import {
  chatCompletion,
  type ScriptedBackend,
  startScriptedBackend,
} from "./fixtures/scripted_backend.ts";

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A backend that answers a whole chat completion after `delay.ms`. */
function delayedBackend(delay: { ms: number }): ScriptedBackend {
  return startScriptedBackend(async () => {
    if (delay.ms > 0) await pause(delay.ms);
    return chatCompletion({ content: "hi" });
  });
}

async function chat(gateway: TestGateway): Promise<void> {
  const response = await postChat(gateway.url);
  assert.equal(response.status, 200);
  await response.body?.cancel();
}

/** Sends `count` requests one after another, the clock moving `step` ms before each. */
async function sequential(
  gateway: TestGateway,
  clock: { advance(ms: number): void },
  count: number,
  step: number,
): Promise<void> {
  for (let i = 0; i < count; i++) {
    clock.advance(step);
    await chat(gateway);
  }
}

async function twoBackends(fastDelay: { ms: number }, slowDelay: { ms: number }) {
  const fast = delayedBackend(fastDelay);
  const slow = delayedBackend(slowDelay);
  const clock = manualClock();
  const gateway = await startGateway(
    oneService("chat", [slow.url, fast.url], { strategy: "fastest" }),
    { now: clock.now, random: seededRandom(17) },
  );
  return {
    fast,
    slow,
    clock,
    gateway,
    async [Symbol.asyncDispose]() {
      await gateway.close();
      await fast.close();
      await slow.close();
    },
  };
}

Deno.test("fastest: most traffic goes to the backend that answers first; the slow one gets probes", async () => {
  await using t = await twoBackends({ ms: 0 }, { ms: 60 });
  await sequential(t.gateway, t.clock, 20, 100);
  assert.ok(t.fast.requests.length >= 17, `fast got ${t.fast.requests.length} of 20`);
  assert.ok(t.slow.requests.length >= 1, "the slow one was measured");
  const before = t.slow.requests.length;
  // Nothing from the slow one for longer than RELEARN_AFTER: it is measured again.
  t.clock.advance(RELEARN_AFTER);
  await sequential(t.gateway, t.clock, 10, 100);
  assert.ok(t.slow.requests.length > before, "the slow one got a probe once its measure aged");
  assert.ok(t.slow.requests.length <= before + 2, `slow got ${t.slow.requests.length - before}`);
});

Deno.test("fastest: when the fast backend turns slow, traffic moves to the other", async () => {
  const fastDelay = { ms: 0 };
  await using t = await twoBackends(fastDelay, { ms: 40 });
  await sequential(t.gateway, t.clock, 10, 1_000);
  assert.ok(t.fast.requests.length >= 8, `fast got ${t.fast.requests.length} of 10`);
  fastDelay.ms = 150;
  const [fastBefore, slowBefore] = [t.fast.requests.length, t.slow.requests.length];
  await sequential(t.gateway, t.clock, 12, 2_000);
  const movedToSlow = t.slow.requests.length - slowBefore;
  assert.ok(movedToSlow >= 8, `the formerly slow one got ${movedToSlow} of 12`);
  assert.ok(t.fast.requests.length - fastBefore <= 4);
});

Deno.test("fastest: an instance failing its requests loses its traffic", async () => {
  let failing = false;
  const flaky = startScriptedBackend(() =>
    failing ? new Response("{}", { status: 500 }) : chatCompletion({ content: "hi" })
  );
  await using steady = delayedBackend({ ms: 30 });
  await using _flaky = flaky;
  const clock = manualClock();
  await using gateway = await startGateway(
    `model:
  services:
    chat:
      load-balance: { type: fastest }
      retry: { count: 0 }
      instances:
        - { name: m, base-url: "${flaky.url}" }
        - { name: m, base-url: "${steady.url}" }
`,
    { now: clock.now, random: seededRandom(5) },
  );
  await sequential(gateway, clock, 8, 1_000);
  assert.ok(flaky.requests.length >= 6, `the quick one got ${flaky.requests.length} of 8`);
  failing = true;
  const before = flaky.requests.length;
  for (let i = 0; i < 12; i++) {
    clock.advance(3_000);
    const response = await postChat(gateway.url);
    await response.body?.cancel();
  }
  assert.ok(
    flaky.requests.length - before <= 4,
    `failing one got ${flaky.requests.length - before}`,
  );
});

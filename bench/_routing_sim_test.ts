import assert from "node:assert/strict";
import { STRATEGIES } from "../src/balancer/mod.ts";
import {
  type EngineSpec,
  fifo,
  type Scenario,
  simulate,
  type WaitingLine,
} from "./_routing_sim.ts";

const ONE: EngineSpec = {
  name: "one",
  prefillPerMs: 2,
  msPerToken: 10,
  batch: 2,
  slowdown: 0.5,
  maxConcurrency: 4,
};

function scenario(overrides: Partial<Scenario> = {}): Scenario {
  return {
    engines: [ONE],
    clients: [{ key: "k", rate: 0.01 }],
    seconds: 600,
    warmUpSeconds: 0,
    promptTokens: [100, 100],
    outputTokens: [50, 50],
    scrapeMs: 2_000,
    seed: 3,
    ...overrides,
  };
}

Deno.test("a request alone: its first token after its prefill, its last after its decode", () => {
  const result = simulate(STRATEGIES["round-robin"], scenario());
  assert.ok(result.finished > 0 && result.finished === result.arrived);
  // At 0.01 requests/s with 550 ms each, requests almost never meet.
  const alone = result.outcomes.filter((outcome) => Math.abs(outcome.ttft - 50) < 1e-6);
  assert.ok(alone.length >= result.finished - 1);
  for (const outcome of alone) assert.ok(Math.abs(outcome.total - 550) < 1e-6);
});

Deno.test("a filling batch slows each member, and what does not fit waits", () => {
  // Four at once on a batch of two: two run at half speed, two wait for them.
  const result = simulate(
    STRATEGIES["round-robin"],
    scenario({
      clients: [{ key: "k", rate: 1_000 }],
      seconds: 0.004,
      outputTokens: [1, 1],
    }),
  );
  const ttfts = result.outcomes.map((outcome) => outcome.ttft).sort((a, b) => a - b);
  assert.equal(ttfts.length, 4);
  assert.ok(ttfts[0]! > 50 * 1.5 - 5, `the first pair prefills at 1/1.5 speed: ${ttfts[0]}`);
  assert.ok(ttfts[3]! > 2 * 50, `the second pair waits for the first: ${ttfts[3]}`);
});

Deno.test("the same seed gives the same run; the waiting line is pluggable", () => {
  const engines = [ONE, { ...ONE, name: "two", prefillPerMs: 1, msPerToken: 20 }];
  const busy = scenario({ engines, clients: [{ key: "a", rate: 2 }, { key: "b", rate: 2 }] });
  const a = simulate(STRATEGIES.fastest, busy);
  const b = simulate(STRATEGIES.fastest, busy);
  assert.deepEqual(a.outcomes, b.outcomes);
  let pushed = 0;
  const counting = (): WaitingLine => {
    const line = fifo();
    return {
      push: (request) => (pushed++, line.push(request)),
      shift: () => line.shift(),
      get length() {
        return line.length;
      },
    };
  };
  simulate(STRATEGIES.fastest, { ...busy, line: counting });
  assert.ok(pushed > 0, "requests over every cap waited in the given line");
});

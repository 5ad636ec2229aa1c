import assert from "node:assert/strict";
import { STRATEGIES } from "../src/balancer/mod.ts";
import {
  type ClientSpec,
  type EngineSpec,
  fair,
  fifo,
  type LineFactory,
  type Outcome,
  type Scenario,
  type SimResult,
  simulate,
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

Deno.test("a request alone: its first token after its prefill, its last after its decode", async () => {
  const result = await simulate(STRATEGIES["round-robin"], scenario());
  assert.ok(result.finished > 0 && result.finished === result.arrived);
  // At 0.01 requests/s with 550 ms each, requests almost never meet.
  const alone = result.outcomes.filter((outcome) => Math.abs(outcome.ttft - 50) < 1e-6);
  assert.ok(alone.length >= result.finished - 1);
  for (const outcome of alone) assert.ok(Math.abs(outcome.total - 550) < 1e-6);
});

Deno.test("a filling batch slows each member, and what does not fit waits", async () => {
  // Four at once on a batch of two: two run at half speed, two wait for them.
  const result = await simulate(
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

Deno.test("the same seed gives the same run; the waiting line is pluggable", async () => {
  const engines = [ONE, { ...ONE, name: "two", prefillPerMs: 1, msPerToken: 20 }];
  const busy = scenario({ engines, clients: [{ key: "a", rate: 2 }, { key: "b", rate: 2 }] });
  const a = await simulate(STRATEGIES.fastest, busy);
  const b = await simulate(STRATEGIES.fastest, busy);
  assert.deepEqual(a.outcomes, b.outcomes);
  let pushed = 0;
  const counting: LineFactory = (context) => {
    const line = fifo()(context);
    return {
      push: (request) => (pushed++, line.push(request)),
      wake: () => line.wake(),
      get length() {
        return line.length;
      },
      get settled() {
        return line.settled;
      },
    };
  };
  await simulate(STRATEGIES.fastest, { ...busy, line: counting });
  assert.ok(pushed > 0, "requests over every cap waited in the given line");
});

/** One engine serving two at a time, about 2.4 requests/s, flooded by a key at seven times that. */
function flooded(line: LineFactory, quiet: ClientSpec): Scenario {
  return scenario({
    engines: [{ ...ONE, maxConcurrency: 2 }],
    clients: [quiet, { key: "flood", rate: 17 }],
    seconds: 600,
    line,
  });
}

function quietOutcomes(result: SimResult, key: string) {
  return result.outcomes.filter((outcome) => outcome.key === key);
}

function p99(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.ceil(sorted.length * 0.99) - 1]!;
}

Deno.test("the fair queue lets a quiet key past a flood that fills a first-in-first-out one", async () => {
  const quiet: ClientSpec = { key: "quiet", rate: 0.5 };
  const settings = { size: 20, timeout: 30_000 };
  const lined = await simulate(STRATEGIES["round-robin"], flooded(fifo(settings), quiet));
  const fairly = await simulate(STRATEGIES["round-robin"], flooded(fair(settings), quiet));
  const [inLine, inTurn] = [quietOutcomes(lined, "quiet"), quietOutcomes(fairly, "quiet")];
  assert.ok(inTurn.length > 200, `enough quiet requests: ${inTurn.length}`);
  const refused = (outcomes: readonly Outcome[]) =>
    outcomes.filter((outcome) => outcome.refused === "full").length;
  assert.ok(refused(inLine) > inLine.length / 2, `a full line turns most away: ${refused(inLine)}`);
  assert.equal(refused(inTurn), 0, "the flood's own newest requests make room for the quiet key");
  // It waits behind at most one flood request per round, not behind the line.
  const fairWait = p99(inTurn.map((outcome) => outcome.waited));
  const lineWait = p99(
    inLine.filter((outcome) => outcome.refused === undefined).map((outcome) => outcome.waited),
  );
  assert.ok(fairWait < 2_500, `p99 wait of the quiet key with the flood: ${fairWait} ms`);
  assert.ok(3 * fairWait < lineWait, `and in one line: ${lineWait} ms`);
  assert.ok(Math.abs(fairly.finished - lined.finished) < 50, "at the same throughput");
});

Deno.test("a high key's requests go before every normal one waiting", async () => {
  const urgent: ClientSpec = { key: "urgent", rate: 0.5, priority: "high" };
  const result = await simulate(STRATEGIES["round-robin"], flooded(fair(), urgent));
  const waits = quietOutcomes(result, "urgent").map((outcome) => outcome.waited);
  assert.ok(waits.length > 200);
  // Two slots, each freed after about 825 ms: it waits for the first of them to free.
  assert.ok(p99(waits) < 1_000, `p99 wait of the high key: ${p99(waits)} ms`);
  const flood = quietOutcomes(result, "flood").filter((outcome) => outcome.refused === undefined);
  assert.ok(p99(flood.map((outcome) => outcome.waited)) > 10_000, "the flood waits its turn");
});

Deno.test("a flooding key at its own max-concurrency leaves slots free for a quiet key", async () => {
  // Four slots; the flood may hold two of them.
  const run = (floodCap: number | undefined) =>
    simulate(
      STRATEGIES["round-robin"],
      scenario({
        engines: [{ ...ONE, batch: 4, maxConcurrency: 4 }],
        clients: [
          { key: "quiet", rate: 0.5 },
          { key: "flood", rate: 17, ...(floodCap ? { maxConcurrency: floodCap } : {}) },
        ],
        seconds: 600,
        line: fair(),
      }),
    );
  const [uncapped, capped] = [await run(undefined), await run(2)];
  const waitedShare = (result: SimResult) => {
    const outcomes = quietOutcomes(result, "quiet");
    return outcomes.filter((outcome) => outcome.waited > 0).length / outcomes.length;
  };
  assert.ok(waitedShare(uncapped) > 0.9, `without the cap it waits: ${waitedShare(uncapped)}`);
  // It waits only when two of its own are in flight already: about one time in six here (each
  // takes about 1.4 s in a full batch, 0.7 of them in flight on average).
  assert.ok(waitedShare(capped) < 0.25, `with the cap: ${waitedShare(capped)}`);
  assert.equal(quietOutcomes(capped, "quiet").filter((outcome) => outcome.refused).length, 0);
  // Two slots of four for the flood, in smaller and so faster batches: a little less than it had.
  const served = (result: SimResult) =>
    quietOutcomes(result, "flood").filter((outcome) => outcome.refused === undefined).length;
  assert.ok(
    served(capped) > 0.5 * served(uncapped) && served(capped) < served(uncapped),
    `the flood's requests served: ${served(capped)} of ${served(uncapped)}`,
  );
});

Deno.test("the queue turns away what it cannot hold, and what waited too long", async () => {
  const quiet: ClientSpec = { key: "quiet", rate: 0.5 };
  const full = await simulate(STRATEGIES["round-robin"], flooded(fifo({ size: 5 }), quiet));
  const reasons = (result: SimResult) => new Set(result.outcomes.map((outcome) => outcome.refused));
  assert.deepEqual(reasons(full), new Set([undefined, "full"]));
  const slow = await simulate(
    STRATEGIES["round-robin"],
    flooded(fifo({ size: 10_000, timeout: 2_000 }), quiet),
  );
  assert.deepEqual(reasons(slow), new Set([undefined, "timeout"]));
  for (const outcome of slow.outcomes) {
    if (outcome.refused) assert.ok(Math.abs(outcome.waited - 2_000) < 1e-6);
    else assert.ok(outcome.waited <= 2_000);
  }
});

Deno.test("max-concurrency auto: the real adaptive limit keeps requests out of the engine's queue", async () => {
  const engine: EngineSpec = { ...ONE, batch: 8, slowdown: 0.05, maxConcurrency: "auto" };
  const busy = scenario({ engines: [engine], clients: [{ key: "k", rate: 60 }], seconds: 300 });
  const adaptive = await simulate(STRATEGIES["round-robin"], busy);
  const capped = await simulate(STRATEGIES["round-robin"], {
    ...busy,
    engines: [{ ...engine, maxConcurrency: 64 }],
  });
  const limit = adaptive.limits.get("one")!;
  // From 4 at the start: it grew into the batch, and not far past it.
  assert.ok(limit >= 6 && limit <= 24, `the limit found for a batch of 8: ${limit}`);
  assert.equal(capped.limits.size, 0);
  assert.ok(
    adaptive.finished > 0.9 * capped.finished,
    `it keeps the batch full: ${adaptive.finished} finished, ${capped.finished} with a cap of 64`,
  );
  // Time to first token from sending: what the engine's own queue adds.
  const inEngine = (result: SimResult) =>
    p99(
      result.outcomes.filter((outcome) => outcome.refused === undefined).map((outcome) =>
        outcome.ttft - outcome.waited
      ),
    );
  assert.ok(
    3 * inEngine(adaptive) < inEngine(capped),
    `p99 in the engine ${inEngine(adaptive)} ms, with a cap of 64 ${inEngine(capped)} ms`,
  );
});

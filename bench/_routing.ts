/**
 * `BENCH_ONLY=routing`: the routing simulation (bench/_routing_sim.ts) over a heterogeneous set
 * of engines, once per strategy, and once more with a key that floods the gateway: time to first
 * token p50/p99, throughput, and per key the share served and p99. Then over engines that differ
 * little and never fill their batches.
 * @module
 */
import { STRATEGIES, type StrategyName } from "../src/balancer/mod.ts";
import { envInteger } from "./_env.ts";
import {
  type ClientSpec,
  type EngineSpec,
  type Scenario,
  type SimResult,
  simulate,
} from "./_routing_sim.ts";

/** The strategies compared, the first being the baseline. */
const COMPARED: readonly StrategyName[] = [
  "round-robin",
  "least-connections",
  "least-load",
  "fastest",
];

/**
 * Three engines of unlike speed, as on a host with a large GPU, a smaller one and a CPU
 * server: prefill and decode speeds differ fourfold between the first and the last.
 */
export const HETEROGENEOUS: readonly EngineSpec[] = [
  {
    name: "big-gpu",
    prefillPerMs: 8,
    msPerToken: 12,
    batch: 16,
    slowdown: 0.06,
    maxConcurrency: 32,
  },
  {
    name: "small-gpu",
    prefillPerMs: 4,
    msPerToken: 24,
    batch: 8,
    slowdown: 0.06,
    maxConcurrency: 16,
  },
  { name: "cpu", prefillPerMs: 2, msPerToken: 48, batch: 4, slowdown: 0.1, maxConcurrency: 8 },
];

/**
 * Three GPUs of which two are 1.5 times slower than the first, with batches large enough never
 * to fill at the load offered: what routing can win when nothing queues.
 */
export const NEAR_ALIKE: readonly EngineSpec[] = [
  { name: "gpu-a", prefillPerMs: 8, msPerToken: 12, batch: 16, slowdown: 0.06, maxConcurrency: 32 },
  { name: "gpu-b", prefillPerMs: 5, msPerToken: 18, batch: 16, slowdown: 0.06, maxConcurrency: 32 },
  { name: "gpu-c", prefillPerMs: 5, msPerToken: 18, batch: 16, slowdown: 0.06, maxConcurrency: 32 },
];

/** Four keys of people at the same pace. */
const PEOPLE: readonly ClientSpec[] = ["alice", "bob", "carol", "dave"].map((key) => ({
  key,
  rate: 0.45,
}));

/** A script that offers as much as all the people together, and then some. */
const FLOOD: ClientSpec = { key: "flood", rate: 2.4 };

function scenario(
  engines: readonly EngineSpec[],
  clients: readonly ClientSpec[],
  options: { readonly seconds: number; readonly seed: number },
): Scenario {
  const { seconds, seed } = options;
  return {
    engines,
    clients,
    seconds,
    warmUpSeconds: Math.min(60, seconds / 10),
    promptTokens: [100, 1500],
    outputTokens: [20, 400],
    scrapeMs: 2_000,
    seed,
  };
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1]!;
}

function ttfts(result: SimResult, key?: string): number[] {
  return result.outcomes
    .filter((outcome) => outcome.counted && (key === undefined || outcome.key === key))
    .map((outcome) => outcome.ttft)
    .sort((a, b) => a - b);
}

const ms = (value: number) =>
  Number.isNaN(value) ? "–" : `${Math.round(value).toLocaleString("en")}`;
const pct = (value: number) => `${(100 * value).toFixed(0)}%`;

/** One row per strategy: TTFT percentiles, throughput, and where requests went. */
function strategyTable(
  specs: readonly EngineSpec[],
  results: ReadonlyMap<StrategyName, SimResult>,
): string {
  const engines = specs.map((engine) => engine.name);
  const lines = [
    `| strategy | TTFT p50 (ms) | TTFT p99 (ms) | p99 vs ${
      COMPARED[0]
    } | finished/s | offered/s | ${engines.map((name) => `to ${name}`).join(" | ")} |`,
    `|---|---:|---:|---:|---:|---:|${engines.map(() => "---:").join("|")}|`,
  ];
  const baseline = percentile(ttfts(results.get(COMPARED[0]!)!), 99);
  for (const [name, result] of results) {
    const sorted = ttfts(result);
    const p99 = percentile(sorted, 99);
    const counted = result.outcomes.filter((outcome) => outcome.counted);
    const shares = engines.map((engine) =>
      pct(counted.filter((outcome) => outcome.engine === engine).length / counted.length)
    );
    lines.push(
      `| ${name} | ${ms(percentile(sorted, 50))} | ${ms(p99)} | ${
        name === COMPARED[0]
          ? "–"
          : `${p99 < baseline ? "−" : "+"}${pct(Math.abs(1 - p99 / baseline))}`
      } | ${(result.finished / result.window).toFixed(2)} | ${
        (result.arrived / result.window).toFixed(2)
      } | ${shares.join(" | ")} |`,
    );
  }
  return lines.join("\n");
}

/** Per strategy and key: the share of finished requests, TTFT p99 with and without the flood. */
function keyTable(
  flooded: ReadonlyMap<StrategyName, SimResult>,
  calm: ReadonlyMap<StrategyName, SimResult>,
): string {
  const keys = [...PEOPLE.map((client) => client.key), FLOOD.key];
  const lines = [
    `| strategy | key | share finished | TTFT p99 (ms) | p99 without the flood (ms) | ratio |`,
    `|---|---|---:|---:|---:|---:|`,
  ];
  for (const [name, result] of flooded) {
    const counted = result.outcomes.filter((outcome) => outcome.counted);
    for (const key of keys) {
      const share = counted.filter((outcome) => outcome.key === key).length / counted.length;
      const p99 = percentile(ttfts(result, key), 99);
      const alone = key === FLOOD.key ? NaN : percentile(ttfts(calm.get(name)!, key), 99);
      lines.push(
        `| ${name} | ${key} | ${pct(share)} | ${ms(p99)} | ${ms(alone)} | ${
          Number.isNaN(alone) ? "–" : `${(p99 / alone).toFixed(1)}×`
        } |`,
      );
    }
  }
  return lines.join("\n");
}

/** Runs every strategy over `make()`'s scenario. */
function runAll(make: () => Scenario): Map<StrategyName, SimResult> {
  return new Map(COMPARED.map((name) => [name, simulate(STRATEGIES[name], make())]));
}

/** Runs the routing simulation and prints its tables; returns the exit code. */
export function routingBench(): number {
  const seconds = envInteger("BENCH_ROUTING_SECONDS", 3_600, [60, 86_400]);
  const seed = envInteger("BENCH_ROUTING_SEED", 1, [0, 2 ** 31]);
  const started = performance.now();
  const calm = runAll(() => scenario(HETEROGENEOUS, PEOPLE, { seconds, seed }));
  const flooded = runAll(() => scenario(HETEROGENEOUS, [...PEOPLE, FLOOD], { seconds, seed }));
  const alike = runAll(() => scenario(NEAR_ALIKE, [{ key: "all", rate: 3 }], { seconds, seed }));
  const cpuMs = performance.now() - started;
  const describe = (engines: readonly EngineSpec[]) =>
    engines.map((e) =>
      `${e.name} (prefill ${e.prefillPerMs} tokens/ms, ${e.msPerToken} ms/token, batch ${e.batch}, ` +
      `slowdown ${e.slowdown} per member, max-concurrency ${e.maxConcurrency})`
    ).join("; ");

  console.log(
    `Routing simulation: ${seconds} virtual s per run (the first ${
      Math.min(60, seconds / 10)
    } s not counted), seed ${seed}; ${Math.round(cpuMs)} ms of real time for all runs`,
  );
  console.log(
    `Prompts 100–1500 tokens, outputs 20–400, uniform; arrivals Poisson; FIFO gateway queue; ` +
      `load scraped every 2 s.`,
  );
  console.log(`Heterogeneous engines: ${describe(HETEROGENEOUS)}.`);
  console.log(`Near-alike engines: ${describe(NEAR_ALIKE)}.`);
  console.log(
    `\n### Heterogeneous engines, ${PEOPLE.length} keys at ${PEOPLE[0]!.rate} requests/s each\n`,
  );
  console.log(strategyTable(HETEROGENEOUS, calm));
  console.log(
    `\n### The same, and a key flooding at ${FLOOD.rate} requests/s (FIFO gateway queue)\n`,
  );
  console.log(strategyTable(HETEROGENEOUS, flooded));
  console.log("");
  console.log(keyTable(flooded, calm));
  console.log(`\n### Near-alike engines, 3 requests/s\n`);
  console.log(strategyTable(NEAR_ALIKE, alike));
  return 0;
}

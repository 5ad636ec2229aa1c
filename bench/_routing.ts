/**
 * `BENCH_ONLY=routing`: the routing simulation (bench/_routing_sim.ts) over a heterogeneous set
 * of engines, once per strategy (and with `max-concurrency: auto`), without and with a key that
 * floods the gateway, under a first-in-first-out queue and under the gateway's fair queue: time
 * to first token p50/p99, throughput, and per key class the p99 with the flood against the p99
 * without it; then with the flooding key at a `max-concurrency` of its own. Then over engines
 * that differ little and never fill their batches.
 * @module
 */
import { STRATEGIES, type StrategyName } from "../src/balancer/mod.ts";
import { envInteger } from "./_env.ts";
import {
  type ClientSpec,
  type EngineSpec,
  fair,
  fifo,
  type LineFactory,
  type Scenario,
  type SimResult,
  simulate,
} from "./_routing_sim.ts";

/**
 * The gateway's `max-concurrency` for the engines: as configured (twice each engine's batch, so
 * that requests also queue inside the engines), at each engine's batch, or `auto`.
 */
type Caps = "configured" | "batch" | "auto";

/** One row: a strategy and the caps it runs with. */
interface Row {
  readonly label: string;
  readonly strategy: StrategyName;
  readonly caps: Caps;
}

const row = (strategy: StrategyName, caps: Caps = "configured"): Row => ({
  label: caps === "configured"
    ? strategy
    : `${strategy}, ${caps === "auto" ? "auto" : "cap = batch"}`,
  strategy,
  caps,
});

/** The rows compared, the first being the baseline. */
const ROWS: readonly Row[] = [
  row("round-robin"),
  row("least-connections"),
  row("least-load"),
  row("fastest"),
  row("round-robin", "batch"),
  row("fastest", "batch"),
  row("least-load", "auto"),
  row("fastest", "auto"),
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

/** Six keys of people at the same pace, in the `normal` class. */
const PEOPLE: readonly ClientSpec[] = ["alice", "bob", "carol", "dave", "erin", "frank"].map((
  key,
) => ({ key, rate: 0.3 }));

/** A key in the `high` class. */
const URGENT: ClientSpec = { key: "oncall", rate: 0.2, priority: "high" };

/** The clients without a flood. */
const CALM: readonly ClientSpec[] = [...PEOPLE, URGENT];

/**
 * A script in the `normal` class offering about three times what the heterogeneous engines
 * can serve (about 4.6 requests/s when every batch is full).
 */
const FLOOD: ClientSpec = { key: "flood", rate: 14 };

/**
 * The flood's own `max-concurrency`: a fourteenth, a quarter and a half of the engines' 28 batch
 * slots (half as much of the 56 slots of the configured caps).
 */
const FLOOD_CAPS: readonly number[] = [2, 7, 14];

/** The rows run with a capped flood. */
const CAPPED_FLOOD_ROWS: readonly Row[] = ROWS.filter((row) =>
  row.caps !== "auto" && (row.strategy === "round-robin" || row.strategy === "fastest")
);

/** The same flood from a key its operator put in the `low` class. */
const LOW_FLOOD: ClientSpec = { ...FLOOD, priority: "low" };

/** Prompt lengths, uniform in this range. */
const PROMPT_TOKENS: readonly [number, number] = [100, 1500];

/** A narrower spread of prompt lengths, for the adaptive limit. */
const NARROW_PROMPTS: readonly [number, number] = [600, 1000];

/**
 * The adaptive limit against the fixed caps, with the scenario's prompts and with prompts of
 * more even length, without the flood: TTFT, throughput, and the limits found.
 */
function adaptiveTable(runs: ReadonlyMap<string, ReadonlyMap<Row, SimResult>>): string {
  const lines = [
    `| prompt tokens | strategy | TTFT p50 (ms) | TTFT p99 (ms) | finished/s | offered/s | refused | limits at the end |`,
    `|---|---|---:|---:|---:|---:|---:|---|`,
  ];
  for (const [prompts, results] of runs) {
    for (const [row, result] of results) {
      const sorted = ttfts(result);
      const limits = [...result.limits].map(([id, limit]) => `${id} ${limit}`).join(", ");
      lines.push(
        `| ${prompts} | ${row.label} | ${ms(percentile(sorted, 50))} | ${
          ms(percentile(sorted, 99))
        } | ${(result.finished / result.window).toFixed(2)} | ${
          (result.arrived / result.window).toFixed(2)
        } | ${pct(result.refused / result.arrived)} | ${limits || "–"} |`,
      );
    }
  }
  return lines.join("\n");
}

function scenario(
  engines: readonly EngineSpec[],
  clients: readonly ClientSpec[],
  options: {
    readonly seconds: number;
    readonly seed: number;
    readonly line: LineFactory;
    readonly promptTokens?: readonly [number, number];
  },
): Scenario {
  const { seconds, seed, line, promptTokens = PROMPT_TOKENS } = options;
  return {
    engines,
    clients,
    seconds,
    warmUpSeconds: Math.min(60, seconds / 10),
    promptTokens,
    outputTokens: [20, 400],
    scrapeMs: 2_000,
    seed,
    line,
  };
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1]!;
}

/** Sorted times to first token of the counted requests served that `keep` keeps. */
function ttfts(result: SimResult, keep: (key: string) => boolean = () => true): number[] {
  return result.outcomes
    .filter((outcome) => outcome.counted && outcome.engine !== undefined && keep(outcome.key))
    .map((outcome) => outcome.ttft)
    .sort((a, b) => a - b);
}

const ms = (value: number) =>
  Number.isNaN(value) ? "–" : `${Math.round(value).toLocaleString("en")}`;
const pct = (value: number) => Number.isNaN(value) ? "–" : `${(100 * value).toFixed(0)}%`;
const times = (value: number) => Number.isNaN(value) ? "–" : `${value.toFixed(1)}×`;

/** One row per strategy: TTFT percentiles, throughput, refusals, and where requests went. */
function strategyTable(
  specs: readonly EngineSpec[],
  results: ReadonlyMap<Row, SimResult>,
): string {
  const engines = specs.map((engine) => engine.name);
  const lines = [
    `| strategy | TTFT p50 (ms) | TTFT p99 (ms) | p99 vs ${
      ROWS[0]!.label
    } | finished/s | offered/s | refused | ${engines.map((name) => `to ${name}`).join(" | ")} |`,
    `|---|---:|---:|---:|---:|---:|---:|${engines.map(() => "---:").join("|")}|`,
  ];
  const baseline = percentile(ttfts(results.get(ROWS[0]!)!), 99);
  for (const [row, result] of results) {
    const sorted = ttfts(result);
    const p99 = percentile(sorted, 99);
    const served = result.outcomes.filter((outcome) =>
      outcome.counted && outcome.engine !== undefined
    );
    const shares = engines.map((engine) =>
      pct(served.filter((outcome) => outcome.engine === engine).length / served.length)
    );
    lines.push(
      `| ${row.label} | ${ms(percentile(sorted, 50))} | ${ms(p99)} | ${
        row === ROWS[0] ? "–" : `${p99 < baseline ? "−" : "+"}${pct(Math.abs(1 - p99 / baseline))}`
      } | ${(result.finished / result.window).toFixed(2)} | ${
        (result.arrived / result.window).toFixed(2)
      } | ${pct(result.refused / result.arrived)} | ${shares.join(" | ")} |`,
    );
  }
  return lines.join("\n");
}

/** Of the counted requests of `keep`'s keys, the share the queue refused. */
function refusedShare(result: SimResult, keep: (key: string) => boolean): number {
  const mine = result.outcomes.filter((outcome) => outcome.counted && keep(outcome.key));
  return mine.filter((outcome) => outcome.refused !== undefined).length / mine.length;
}

const isPerson = (key: string) => PEOPLE.some((client) => client.key === key);
const isUrgent = (key: string) => key === URGENT.key;
const isFlood = (key: string) => key === FLOOD.key;

/**
 * Per strategy, the other keys with the flood against without it: the people's keys together
 * (`normal`), the worst of them alone, and the `high` key; the flood's share of what was served.
 */
function keyTable(
  flooded: ReadonlyMap<Row, SimResult>,
  calm: ReadonlyMap<Row, SimResult>,
): string {
  const lines = [
    `| strategy | people p50 (ms) | people p99 (ms) | without flood | ratio | worst person's ratio | people's queue wait p50/p99 (ms) | ` +
    `${URGENT.key} (high) p99 | without flood | ratio | people refused | flood's share served |`,
    `|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|`,
  ];
  for (const [row, result] of flooded) {
    const waits = result.outcomes
      .filter((outcome) => outcome.counted && outcome.engine !== undefined && isPerson(outcome.key))
      .map((outcome) => outcome.waited)
      .sort((a, b) => a - b);
    const alone = calm.get(row)!;
    const people = percentile(ttfts(result, isPerson), 99);
    const peopleMedian = percentile(ttfts(result, isPerson), 50);
    const peopleAlone = percentile(ttfts(alone, isPerson), 99);
    const worst = Math.max(
      ...PEOPLE.map(({ key }) =>
        percentile(ttfts(result, (k) => k === key), 99) /
        percentile(ttfts(alone, (k) => k === key), 99)
      ),
    );
    const urgent = percentile(ttfts(result, isUrgent), 99);
    const urgentAlone = percentile(ttfts(alone, isUrgent), 99);
    const served = result.outcomes.filter((outcome) =>
      outcome.counted && outcome.engine !== undefined
    );
    lines.push(
      `| ${row.label} | ${ms(peopleMedian)} | ${ms(people)} | ${ms(peopleAlone)} | ${
        times(people / peopleAlone)
      } | ${times(worst)} | ${ms(percentile(waits, 50))} / ${ms(percentile(waits, 99))} | ${
        ms(urgent)
      } | ${ms(urgentAlone)} | ${times(urgent / urgentAlone)} | ${
        pct(refusedShare(result, isPerson))
      } | ${pct(served.filter((outcome) => isFlood(outcome.key)).length / served.length)} |`,
    );
  }
  return lines.join("\n");
}

/** The engines of `specs` with the caps of `caps`. */
function capped(specs: readonly EngineSpec[], caps: Caps): readonly EngineSpec[] {
  if (caps === "configured") return specs;
  return specs.map((spec) => ({ ...spec, maxConcurrency: caps === "auto" ? "auto" : spec.batch }));
}

/** Runs every row over `make(engines)`'s scenario. */
async function runAll(
  make: (engines: readonly EngineSpec[]) => Scenario,
  engines: readonly EngineSpec[],
  rows: readonly Row[] = ROWS,
): Promise<Map<Row, SimResult>> {
  const results = new Map<Row, SimResult>();
  for (const row of rows) {
    results.set(
      row,
      await simulate(STRATEGIES[row.strategy], make(capped(engines, row.caps))),
    );
  }
  return results;
}

/** Runs the routing simulation and prints its tables; returns the exit code. */
export async function routingBench(): Promise<number> {
  const seconds = envInteger("BENCH_ROUTING_SECONDS", 3_600, [60, 86_400]);
  const seed = envInteger("BENCH_ROUTING_SEED", 1, [0, 2 ** 31]);
  const started = performance.now();
  // The queues, and the flood's class: `normal` like the people, or `low`.
  const fairLine = fair();
  const queues = [
    { name: "first-in-first-out queue", line: fifo(), flood: FLOOD },
    { name: "fair queue", line: fairLine, flood: FLOOD },
    { name: "fair queue, the flood in class low", line: fairLine, flood: LOW_FLOOD },
  ];
  const runs = [];
  // Without the flood, per queue: the same for either class of the flood.
  const calmRuns = new Map<LineFactory, Map<Row, SimResult>>();
  for (const { name, line, flood } of queues) {
    const options = { seconds, seed, line };
    const known = calmRuns.get(line);
    const calm = known ??
      await runAll((engines) => scenario(engines, CALM, options), HETEROGENEOUS);
    calmRuns.set(line, calm);
    const flooded = await runAll(
      (engines) => scenario(engines, [...CALM, flood], options),
      HETEROGENEOUS,
    );
    runs.push({ name, calm, flooded, first: known === undefined });
  }
  // The flood with a cap of its own, under the fair queue.
  const cappedFlood = [];
  for (const cap of FLOOD_CAPS) {
    const flooded = await runAll(
      (engines) =>
        scenario(engines, [...CALM, { ...FLOOD, maxConcurrency: cap }], {
          seconds,
          seed,
          line: fairLine,
        }),
      HETEROGENEOUS,
      CAPPED_FLOOD_ROWS,
    );
    cappedFlood.push({ cap, flooded });
  }
  const adaptive = new Map<string, Map<Row, SimResult>>();
  for (const promptTokens of [PROMPT_TOKENS, NARROW_PROMPTS]) {
    adaptive.set(
      promptTokens.join("–"),
      await runAll(
        (engines) => scenario(engines, CALM, { seconds, seed, line: fairLine, promptTokens }),
        HETEROGENEOUS,
        ROWS.filter((row) => row.strategy === "fastest"),
      ),
    );
  }
  const alike = await runAll(
    (engines) => scenario(engines, [{ key: "all", rate: 3 }], { seconds, seed, line: fair() }),
    NEAR_ALIKE,
    ROWS.filter((row) => row.caps === "configured"),
  );
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
    `Prompts 100–1500 tokens, outputs 20–400, uniform; arrivals Poisson; load scraped every 2 s; ` +
      `gateway queue: queue-size 100, queue-timeout 30 s, first in first out (one lane) or fair ` +
      `(a lane per key, priority classes).`,
  );
  console.log(`Heterogeneous engines: ${describe(HETEROGENEOUS)}.`);
  console.log(
    `"cap = batch": the same engines with max-concurrency at their batch (16, 8, 4); "auto": ` +
      `with max-concurrency: auto (the adaptive limit, bounds 1–256, from 4).`,
  );
  console.log(`Near-alike engines: ${describe(NEAR_ALIKE)}.`);
  console.log(
    `Keys: ${PEOPLE.length} people's (normal) at ${PEOPLE[0]!.rate} requests/s each, ` +
      `${URGENT.key} (high) at ${URGENT.rate}; with the flood, ${FLOOD.key} (normal) at ${FLOOD.rate}.`,
  );
  for (const { name, calm, flooded, first } of runs) {
    if (first) {
      console.log(`\n### Heterogeneous engines, no flood, ${name}\n`);
      console.log(strategyTable(HETEROGENEOUS, calm));
    }
    console.log(`\n### Heterogeneous engines with the flood, ${name}\n`);
    console.log(strategyTable(HETEROGENEOUS, flooded));
    console.log("");
    console.log(keyTable(flooded, calm));
  }
  for (const { cap, flooded } of cappedFlood) {
    console.log(
      `\n### Heterogeneous engines with the flood at max-concurrency ${cap}, fair queue\n`,
    );
    console.log(strategyTable(HETEROGENEOUS, flooded));
    console.log("");
    console.log(keyTable(flooded, calmRuns.get(fairLine)!));
  }
  console.log(`\n### The adaptive limit and prompt lengths, no flood, fair queue\n`);
  console.log(adaptiveTable(adaptive));
  console.log(`\n### Near-alike engines, 3 requests/s\n`);
  console.log(strategyTable(NEAR_ALIKE, alike));
  return 0;
}

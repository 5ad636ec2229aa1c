/**
 * Two targets measured at the same time, each under its own wrk, over several short windows.
 * Runs one after another see different machines when a neighbour comes and goes; two targets
 * loaded together see the same one, so the ratio of their CPU time per request holds still
 * where each figure alone moves by a quarter. That ratio is how the bench tells a cost of a few
 * percent, such as metrics and request logs, from noise.
 * @module
 */
import { processTreeUsage } from "./_proc.ts";
import { table } from "./_report.ts";
import { runWrk } from "./_wrk.ts";

/** A target as the side-by-side runs need it. */
export interface PairedTarget {
  readonly name: string;
  readonly url: string;
  /** The process whose CPU time counts, with its descendants. */
  readonly pid: number;
}

/** One pair's result in one scenario. */
export interface PairResult {
  readonly base: string;
  readonly compared: string;
  readonly scenario: "chat" | "stream";
  /** CPU per request over all windows, in µs. */
  readonly baseCpuUs: number;
  readonly comparedCpuUs: number;
  /** compared ÷ base, of the totals over all windows. */
  readonly ratio: number;
  /** The ratio in each window. */
  readonly windowRatios: readonly number[];
}

/** Options for {@linkcode sideBySide}. */
export interface SideBySideOptions {
  readonly scenario: "chat" | "stream";
  readonly windows: number;
  readonly seconds: number;
  /** Connections for each of the two. */
  readonly connections: number;
  readonly warmUpSeconds: number;
}

/** Loads `base` and `compared` together and compares their CPU time per request. */
export async function sideBySide(
  base: PairedTarget,
  compared: PairedTarget,
  options: SideBySideOptions,
): Promise<PairResult> {
  const load = (target: PairedTarget, seconds: number) =>
    runWrk(target.url, {
      connections: options.connections,
      threads: 1,
      seconds,
      stream: options.scenario === "stream",
    });
  const cpu = async (target: PairedTarget) => (await processTreeUsage(target.pid)).cpuSeconds;
  await Promise.all([load(base, options.warmUpSeconds), load(compared, options.warmUpSeconds)]);
  const totals = { baseCpu: 0, baseRequests: 0, comparedCpu: 0, comparedRequests: 0 };
  const windowRatios: number[] = [];
  for (let window = 0; window < options.windows; window++) {
    const before = await Promise.all([cpu(base), cpu(compared)]);
    const runs = await Promise.all([load(base, options.seconds), load(compared, options.seconds)]);
    const after = await Promise.all([cpu(base), cpu(compared)]);
    for (const [index, run] of runs.entries()) {
      if (run.errors > 0) {
        const name = index === 0 ? base.name : compared.name;
        throw new Error(`${name} failed ${run.errors} requests side by side (${run.errorDetail})`);
      }
    }
    const [baseRun, comparedRun] = runs;
    const baseCpu = after[0] - before[0];
    const comparedCpu = after[1] - before[1];
    windowRatios.push(
      (comparedCpu / comparedRun.requests) / (baseCpu / baseRun.requests),
    );
    totals.baseCpu += baseCpu;
    totals.baseRequests += baseRun.requests;
    totals.comparedCpu += comparedCpu;
    totals.comparedRequests += comparedRun.requests;
  }
  const baseCpuUs = (totals.baseCpu / totals.baseRequests) * 1e6;
  const comparedCpuUs = (totals.comparedCpu / totals.comparedRequests) * 1e6;
  return {
    base: base.name,
    compared: compared.name,
    scenario: options.scenario,
    baseCpuUs,
    comparedCpuUs,
    ratio: comparedCpuUs / baseCpuUs,
    windowRatios,
  };
}

const integer = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

/** The side-by-side results, one line per pair and scenario. */
export function sideBySideTable(results: readonly PairResult[]): string {
  const header = [
    "compared / base",
    "scenario",
    "base CPU/req",
    "compared CPU/req",
    "ratio",
    "windows",
  ];
  const lines = results.map((result) => {
    const sorted = [...result.windowRatios].sort((a, b) => a - b);
    return [
      `${result.compared} / ${result.base}`,
      result.scenario,
      `${integer.format(result.baseCpuUs)} µs`,
      `${integer.format(result.comparedCpuUs)} µs`,
      `${result.ratio.toFixed(3)}x`,
      `${sorted[0]?.toFixed(2)}–${sorted.at(-1)?.toFixed(2)}x`,
    ];
  });
  return table(header, lines, [false, false, true, true, true, true]);
}

/**
 * The long-stream scenarios: what thousands of open streams cost a proxy in memory and in the
 * regularity of their chunks (`streams`), and the time a proxy adds to each chunk
 * (`chunk-latency`). The client is {@linkcode holdStreams}; memory is the resident set of the
 * target's processes, read once a second.
 * @module
 */
import process from "node:process";
import { processTree, residentBytes } from "./_proc.ts";
import { table } from "./_report.ts";
import { holdStreams, sortedPercentile, type StreamLoadResult } from "./_stream_client.ts";

/** A target as the stream scenarios need it. */
export interface StreamTarget {
  readonly name: string;
  readonly url: string;
  /** The process whose memory counts, with its descendants. */
  readonly pid: number;
  /**
   * Stops the target once a scenario is through with it, so that what it still does after its
   * load (a proxy's pooled connections to the backend timing out, a large heap collected) does
   * not weigh on the next target's run. None for the backend, which every target uses.
   */
  readonly stop?: (() => Promise<void>) | undefined;
}

/** Options for {@linkcode measureStreams}. */
export interface StreamsOptions {
  readonly streams: number;
  /** Stamped chunks in each stream. */
  readonly chunks: number;
  readonly intervalMs: number;
  /** Batches run one after another on the same processes. */
  readonly batches: number;
  /** Time after a batch before the resident set is read again, in s. */
  readonly settleSeconds: number;
  /** Time over which a batch's streams are started, in ms. @default intervalMs */
  readonly spreadMs?: number;
}

/** One batch of streams through one target. */
export interface BatchResult {
  readonly batch: number;
  /** Resident set just before the batch: for the first one, the target idle. */
  readonly rssBeforeBytes: number;
  /** Highest resident set read while the batch ran. */
  readonly rssPeakBytes: number;
  /** Resident set `settleSeconds` after the batch ended. */
  readonly rssAfterBytes: number;
  /** CPU seconds the client (this process) used while the batch ran, to show it kept up. */
  readonly clientCpuSeconds: number;
  readonly load: StreamLoadResult;
}

/** Every batch through one target. */
export interface StreamsResult {
  readonly target: string;
  readonly batches: readonly BatchResult[];
}

const RSS_SAMPLE_MS = 1_000;

/**
 * Reads the resident set of `pids` every `intervalMs` (default a second) until stopped; `stop`
 * resolves to the highest reading, including one taken as it stops.
 */
export function sampleRss(
  pids: ReadonlySet<number>,
  intervalMs = RSS_SAMPLE_MS,
): { stop(): Promise<number> } {
  let peak = 0;
  let stopped = false;
  let wake = () => {};
  const sampling = (async () => {
    while (!stopped) {
      peak = Math.max(peak, await residentBytes(pids));
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, intervalMs);
      });
    }
    peak = Math.max(peak, await residentBytes(pids));
  })();
  return {
    async stop() {
      stopped = true;
      wake();
      await sampling;
      return peak;
    },
  };
}

/** Runs `options.batches` batches of long streams through `target`, one after another. */
export async function measureStreams(
  target: StreamTarget,
  options: StreamsOptions,
  progress: (line: string) => void,
): Promise<StreamsResult> {
  const pids = await processTree(target.pid);
  const batches: BatchResult[] = [];
  for (let batch = 1; batch <= options.batches; batch++) {
    const rssBeforeBytes = await residentBytes(pids);
    const sampler = sampleRss(pids);
    const cpuBefore = process.cpuUsage();
    const load = await holdStreams(target.url, options);
    const cpu = process.cpuUsage(cpuBefore);
    const rssPeakBytes = await sampler.stop();
    // Real time is what is measured here: how much memory the target gives back once idle.
    await new Promise((resolve) => setTimeout(resolve, options.settleSeconds * 1000));
    const rssAfterBytes = await residentBytes(pids);
    const clientCpuSeconds = (cpu.user + cpu.system) / 1e6;
    batches.push({ batch, rssBeforeBytes, rssPeakBytes, rssAfterBytes, clientCpuSeconds, load });
    progress(
      `  streams batch ${batch}/${options.batches}: ${target.name} ${load.completed} of ` +
        `${options.streams} complete, peak ${mib(rssPeakBytes)}, after ${mib(rssAfterBytes)}`,
    );
  }
  return { target: target.name, batches };
}

/** Options for {@linkcode measureChunkLatency}. */
export interface ChunkLatencyOptions {
  readonly streams: number;
  readonly chunks: number;
  readonly intervalMs: number;
}

/** A short unmeasured run, so the target's code is warm, then the measured one. */
export async function measureChunkLatency(
  target: StreamTarget,
  options: ChunkLatencyOptions,
): Promise<StreamLoadResult> {
  await holdStreams(target.url, { ...options, chunks: Math.min(options.chunks, 20) });
  return await holdStreams(target.url, options);
}

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

function ms(value: number): string {
  if (Number.isNaN(value)) return "-";
  return `${Math.abs(value) < 10 ? value.toFixed(2) : value.toFixed(1)} ms`;
}

function errorText(load: StreamLoadResult): string {
  const total = [...load.errors.values()].reduce((sum, count) => sum + count, 0);
  return total === 0 ? "0" : `${total} (${[...load.errors].map(([why, n]) => `${n} ${why}`)})`;
}

/** The percentiles of each table: p50, p99, p99.9 and the largest. */
const PERCENTILES = [50, 99, 99.9, 100] as const;

/** The target's resident set before its first batch. */
function idleBytes(result: StreamsResult): number {
  return result.batches[0]?.rssBeforeBytes ?? NaN;
}

/**
 * One line per target and batch: streams, errors, chunk gaps, the wait for each stream's response
 * head, and resident memory.
 */
export function streamsTable(results: readonly StreamsResult[], streams: number): string {
  const header = [
    "target",
    "batch",
    "complete",
    "errors",
    "chunks",
    "gap p50",
    "p99",
    "p99.9",
    "max",
    "all open: p99.9",
    "max",
    "head p50",
    "p99",
    "RSS before",
    "peak",
    "per stream",
    "after",
    "client CPU",
  ];
  const lines = results.flatMap((result) =>
    result.batches.map((batch) => [
      result.target,
      String(batch.batch),
      String(batch.load.completed),
      errorText(batch.load),
      String(batch.load.chunks),
      ...PERCENTILES.map((p) => ms(sortedPercentile(batch.load.gapsMs, p))),
      ...[99.9, 100].map((p) => ms(sortedPercentile(batch.load.steadyGapsMs, p))),
      ...[50, 99].map((p) => ms(sortedPercentile(batch.load.headsMs, p))),
      mib(batch.rssBeforeBytes),
      mib(batch.rssPeakBytes),
      kib((batch.rssPeakBytes - idleBytes(result)) / streams),
      mib(batch.rssAfterBytes),
      `${batch.clientCpuSeconds.toFixed(1)} s`,
    ])
  );
  return table(header, lines, [false, true, true, false, ...Array(header.length - 4).fill(true)]);
}

function ratio(value: number, base: number): string {
  if (!Number.isFinite(value) || !Number.isFinite(base) || base <= 0) return "-";
  return `${value / base < 10 ? (value / base).toFixed(2) : (value / base).toFixed(1)}x`;
}

/**
 * The gateway against each base (the bare proxy, nginx): idle memory, and peak, per-stream
 * (over idle) and settled memory in the last batch, when the targets are warm; and how far the slowest
 * chunk gaps stretch beyond the interval, over all batches.
 */
export function streamsRatioTable(
  results: readonly StreamsResult[],
  names: { gateway: string; bases: readonly string[] },
  options: { streams: number; intervalMs: number },
): string {
  const summary = (name: string) => {
    const result = results.find((candidate) => candidate.target === name);
    const first = result?.batches[0];
    const last = result?.batches.at(-1);
    if (!first || !last) return undefined;
    const worstGap = (p: number) =>
      Math.max(...result.batches.map((batch) => sortedPercentile(batch.load.gapsMs, p)));
    return {
      idle: first.rssBeforeBytes,
      peak: last.rssPeakBytes,
      perStream: (last.rssPeakBytes - first.rssBeforeBytes) / options.streams,
      after: last.rssAfterBytes,
      gapP99Over: worstGap(99) - options.intervalMs,
      gapMaxOver: worstGap(100) - options.intervalMs,
    };
  };
  const gateway = summary(names.gateway);
  const header = [
    "",
    "idle RSS",
    "peak RSS",
    "RSS per stream",
    "RSS after",
    "gap p99 over interval",
    "gap max over interval",
  ];
  const lines: string[][] = [];
  for (const name of names.bases) {
    const base = summary(name);
    if (!gateway || !base) continue;
    lines.push([
      `${names.gateway} / ${name}`,
      ratio(gateway.idle, base.idle),
      ratio(gateway.peak, base.peak),
      ratio(gateway.perStream, base.perStream),
      ratio(gateway.after, base.after),
      ratio(gateway.gapP99Over, base.gapP99Over),
      ratio(gateway.gapMaxOver, base.gapMaxOver),
    ]);
  }
  return table(header, lines, [false, true, true, true, true, true, true]);
}

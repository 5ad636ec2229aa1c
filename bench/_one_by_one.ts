/**
 * The scenarios run through the backend alone, nginx, the bare proxy and the gateway, one target
 * after another: `streams`, `chunk-latency`, `first-byte`, `stream-cpu`, `fixed-rate` and
 * `uploads`. Each reads its settings from the environment when chosen, says how many connections
 * it holds at once (for the open-files limits), and measures and prints its tables; bench/run.ts
 * starts the targets.
 * @module
 */
import { ADDED_PERCENTILES, addedTable, type LatencyRow } from "./_added_report.ts";
import { envInteger } from "./_env.ts";
import { fixedRate } from "./_fixed_rate.ts";
import { sortedPercentile, type StreamLoadResult } from "./_stream_client.ts";
import { measureStreamCpu, STREAM_CPU, type StreamCpu, streamCpuTable } from "./_stream_cpu.ts";
import {
  measureChunkLatency,
  measureStreams,
  streamsRatioTable,
  type StreamsResult,
  streamsTable,
  type StreamTarget,
} from "./_streams.ts";
import { measureTtfb, TTFB } from "./_ttfb.ts";
import { measureUploads, uploadBody, type UploadsResult, uploadsTable } from "./_uploads.ts";

/** What the scenarios call the targets they compare. */
export interface ScenarioNames {
  /** The backend alone, the floor every proxy's addition is measured from. */
  readonly direct: string;
  readonly gateway: string;
  /** The targets the gateway is weighed against. */
  readonly bases: readonly string[];
}

/** A scenario run through the backend, nginx, the bare proxy and the gateway, one by one. */
export interface OneByOneScenario {
  /** What it does, with its parameters, for the header. */
  readonly description: string;
  /** Connections it holds at once, for the open-files limits. */
  readonly connections: number;
  /** Measures every target and prints its tables. */
  run(targets: readonly StreamTarget[], names: ScenarioNames): Promise<void>;
}

function errorNote(load: StreamLoadResult): string {
  const failed = [...load.errors].map(([why, count]) => `${count} ${why}`).join(", ");
  return `${load.completed} complete, ${load.chunks} chunks` +
    (failed ? `, failed: ${failed}` : "");
}

/** `BENCH_ONLY=streams`: batches of long streams, memory read every second. */
function streamsScenario(): OneByOneScenario {
  const streams = envInteger("BENCH_STREAMS", 5_000, [1, 100_000]);
  const seconds = envInteger("BENCH_STREAM_SECONDS", 30, [1, 3_600]);
  const intervalMs = envInteger("BENCH_STREAM_INTERVAL_MS", 1_000, [1, 60_000]);
  const batches = envInteger("BENCH_STREAM_BATCHES", 3, [1, 20]);
  const settleSeconds = envInteger("BENCH_STREAM_SETTLE_SECONDS", 10, [0, 600]);
  const spreadMs = envInteger("BENCH_STREAM_SPREAD_MS", intervalMs, [0, 600_000]);
  const chunks = Math.max(1, Math.round((seconds * 1000) / intervalMs));
  return {
    description: `${streams} streams at once, ${chunks} chunks each, one every ${intervalMs} ms, ` +
      `started over ${spreadMs} ms; ${batches} batch(es) per target on the same process, RSS ` +
      `read every second and ${settleSeconds} s after each batch`,
    connections: streams,
    async run(targets, names) {
      const results: StreamsResult[] = [];
      for (const target of targets) {
        results.push(
          await measureStreams(
            target,
            { streams, chunks, intervalMs, batches, settleSeconds, spreadMs },
            (line) => console.log(line),
          ),
        );
        // A proxy left running weighs on the next target's batch: after the bare proxy that reads
        // chunks in JS, still up with its pooled connections and heap, the gateway's streams
        // stalled for seconds (bench/results/2026-12-05-streams-isolated.md).
        await target.stop?.();
      }
      console.log("");
      console.log(streamsTable(results, streams));
      console.log(
        `\ngap: time between two chunks of a stream at the client (the backend sends one every ` +
          `${intervalMs} ms); all open: the gaps that ended once every stream had been open ` +
          `for one interval, the openings over. head: time from when a stream was due to open ` +
          `to its response head. RSS: resident memory of the target's processes (for direct, the ` +
          `backend): before the batch, its peak, per stream (peak - idle) / streams, and ` +
          `${settleSeconds} s after it. Memory that returns after a batch is a high-water mark; ` +
          `memory that grows from batch to batch is a leak. client CPU: user + system time ` +
          `of the bench process while the batch ran.`,
      );
      console.log("");
      console.log(
        streamsRatioTable(results, names, {
          streams,
          intervalMs,
        }),
      );
    },
  };
}

/** `BENCH_ONLY=chunk-latency`: the delay from each chunk's send stamp to its arrival. */
function chunkLatencyScenario(): OneByOneScenario {
  const streams = envInteger("BENCH_LATENCY_STREAMS", 100, [1, 100_000]);
  const seconds = envInteger("BENCH_LATENCY_SECONDS", 10, [1, 3_600]);
  const intervalMs = envInteger("BENCH_LATENCY_INTERVAL_MS", 20, [1, 60_000]);
  const chunks = Math.max(1, Math.round((seconds * 1000) / intervalMs));
  return {
    description: `${streams} streams at once, ${chunks} chunks each, one every ${intervalMs} ms, ` +
      `started over ${intervalMs} ms, after a short warm-up run`,
    connections: streams,
    async run(targets, names) {
      const rows: LatencyRow[] = [];
      for (const target of targets) {
        console.log(`  chunk latency: ${target.name}`);
        const load = await measureChunkLatency(target, {
          streams,
          chunks,
          intervalMs,
        });
        rows.push(latencyRow(target.name, load.delaysMs, errorNote(load)));
      }
      console.log("");
      console.log(addedTable(rows, names));
      console.log(
        "\nThe time from the send time the backend stamps in each chunk to the chunk's arrival at " +
          "the client; added: the same percentile through the target minus direct.",
      );
    },
  };
}

/** `BENCH_ONLY=first-byte`: the time to the first streamed byte, as in the full run. */
function firstByteScenario(): OneByOneScenario {
  return {
    description: `first byte: ${TTFB.requests} streams, ${TTFB.concurrency} at a time, chunks ` +
      `${TTFB.chunkDelayMs} ms apart, after ${TTFB.warmUp} unmeasured`,
    connections: TTFB.concurrency,
    async run(targets, names) {
      const rows: LatencyRow[] = [];
      for (const target of targets) {
        console.log(`  first byte: ${target.name}`);
        const ttfb = await measureTtfb(target.url, { ...TTFB, requests: TTFB.warmUp })
          .then(() => measureTtfb(target.url, TTFB));
        rows.push({
          target: target.name,
          ms: {
            p50: ttfb.firstByteP50Ms,
            p99: ttfb.firstByteP99Ms,
            "p99.9": sortedPercentile(Float64Array.from(ttfb.firstBytesMs).sort(), 99.9),
          },
          note: `last byte p50 ${ttfb.lastByteP50Ms.toFixed(1)} ms`,
        });
      }
      console.log("");
      console.log(addedTable(rows, names));
      console.log("\nTime from sending a streamed request to the first body chunk.");
    },
  };
}

/** `BENCH_ONLY=stream-cpu`: CPU per streamed request, a part per chunk and a fixed part. */
function streamCpuScenario(): OneByOneScenario {
  const options = {
    ...STREAM_CPU,
    requests: envInteger("BENCH_STREAM_CPU_REQUESTS", STREAM_CPU.requests, [500, 1_000_000]),
  };
  const [short, long] = options.chunks;
  return {
    description: `CPU per streamed request: ${options.requests} streams of ${short} chunks, then ` +
      `of ${long}, ${options.concurrency} at a time, chunks ${options.chunkDelayMs} ms apart, ` +
      `each after ${options.warmUp} unmeasured`,
    connections: options.concurrency,
    async run(targets) {
      const results: StreamCpu[] = [];
      for (const target of targets) {
        console.log(`  stream CPU: ${target.name}`);
        results.push(await measureStreamCpu(target, options));
        await target.stop?.();
      }
      console.log("");
      console.log(streamCpuTable(results, options.chunks));
      console.log(
        "\nCPU: user + system time of the target's processes (for direct, the backend) per " +
          `request. per chunk: the difference between ${long} and ${short} chunks over ` +
          `${long - short}; fixed: what is left at ${short} chunks, the request's way in and out.`,
      );
    },
  };
}

/** `BENCH_ONLY=fixed-rate`: JSON requests at a fixed rate over a backend that takes its time. */
function fixedRateScenario(): OneByOneScenario {
  const rate = envInteger("BENCH_RATE", 500, [1, 100_000]);
  const seconds = envInteger("BENCH_RATE_SECONDS", 10, [1, 3_600]);
  const answerDelayMs = envInteger("BENCH_RATE_BACKEND_MS", 20, [0, 60_000]);
  return {
    description: `${rate} JSON requests a second, open loop, for ${seconds} s after 2 s ` +
      `unmeasured; the backend answers after ${answerDelayMs} ms`,
    // Answers in flight at once, with room for a slow spell.
    connections: Math.ceil((rate * Math.max(answerDelayMs, 10)) / 1000) * 10,
    async run(targets, names) {
      const rows: LatencyRow[] = [];
      for (const target of targets) {
        console.log(`  fixed rate: ${target.name}`);
        await fixedRate(target.url, { rate, seconds: 2, answerDelayMs });
        const result = await fixedRate(target.url, { rate, seconds, answerDelayMs });
        rows.push(
          latencyRow(
            target.name,
            result.latenciesMs,
            `${Math.round(result.sentRate)} req/s sent, ${result.errors} errors, max ` +
              `${sortedPercentile(result.latenciesMs, 100).toFixed(1)} ms`,
          ),
        );
      }
      console.log("");
      console.log(addedTable(rows, names));
      console.log(
        "\nTime from the moment each request was due to its whole answer, so that a slow " +
          "spell counts for every request it held up.",
      );
    },
  };
}

/** `BENCH_ONLY=uploads`: large multipart uploads, a few at a time, memory read often. */
function uploadsScenario(): OneByOneScenario {
  const options = {
    uploads: envInteger("BENCH_UPLOADS", 50, [1, 100_000]),
    sizeMiB: envInteger("BENCH_UPLOAD_MIB", 25, [1, 1_024]),
    concurrency: envInteger("BENCH_UPLOAD_CONCURRENCY", 10, [1, 1_000]),
    settleSeconds: envInteger("BENCH_UPLOAD_SETTLE_SECONDS", 10, [0, 600]),
    sampleMs: 200,
  };
  const { uploads, sizeMiB, concurrency, settleSeconds, sampleMs } = options;
  return {
    description: `${uploads} multipart uploads of ${sizeMiB} MiB, ${concurrency} at a time, ` +
      `to /v1/audio/transcriptions; RSS read every ${sampleMs} ms and ${settleSeconds} s after`,
    connections: concurrency,
    async run(targets) {
      const body = uploadBody(sizeMiB);
      const results: UploadsResult[] = [];
      for (const target of targets) {
        const result = await measureUploads(target, body, options);
        console.log(
          `  uploads: ${target.name} ${result.completed} of ${uploads} complete in ` +
            `${result.seconds.toFixed(1)} s`,
        );
        results.push(result);
      }
      console.log("");
      console.log(uploadsTable(results, options));
      console.log(
        `\nRSS: resident memory of the target's processes (for direct, the backend): idle before ` +
          `the first upload, its peak, and ${settleSeconds} s after the last. copies: (peak - ` +
          `idle) / (${concurrency} × ${sizeMiB} MiB), the uploads in flight held over idle.`,
      );
    },
  };
}

function latencyRow(target: string, sorted: Float64Array, note: string): LatencyRow {
  return {
    target,
    ms: Object.fromEntries(
      ADDED_PERCENTILES.map(([label, p]) => [label, sortedPercentile(sorted, p)]),
    ) as LatencyRow["ms"],
    note,
  };
}

/** The scenarios `BENCH_ONLY` may name that run one target after another. */
export const ONE_BY_ONE = {
  streams: streamsScenario,
  "chunk-latency": chunkLatencyScenario,
  "first-byte": firstByteScenario,
  "stream-cpu": streamCpuScenario,
  "fixed-rate": fixedRateScenario,
  uploads: uploadsScenario,
} as const;

/** Whether `name` is one of {@linkcode ONE_BY_ONE}. */
export function isOneByOne(name: string): name is keyof typeof ONE_BY_ONE {
  return Object.hasOwn(ONE_BY_ONE, name);
}

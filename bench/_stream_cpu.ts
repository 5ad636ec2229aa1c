/**
 * What a streamed request costs a proxy in CPU, split into a part per chunk and a fixed part
 * per request: the proxy's CPU time over many short streams and over as many long ones, the
 * difference divided by the chunks between them. The fixed part is the request's way in and
 * out (routing, limits, the upstream request, the answer's head); the part per chunk, the
 * relay.
 * @module
 */
import { table } from "./_report.ts";
import { processTreeUsage } from "./_proc.ts";
import { streamToDone } from "./_ttfb.ts";

/** How the streams are sent. */
export interface StreamCpuOptions {
  /** Chunks in a short stream and in a long one. */
  readonly chunks: readonly [short: number, long: number];
  /** Streams measured at each length, after `warmUp` unmeasured. */
  readonly requests: number;
  readonly warmUp: number;
  /** Streams in flight at once. */
  readonly concurrency: number;
  /** The backend's delay between two chunks, in ms. */
  readonly chunkDelayMs: number;
}

/** The scenario's defaults: a light load, as a gateway serving a few clients sees. */
export const STREAM_CPU: StreamCpuOptions = {
  chunks: [5, 45],
  requests: 1_500,
  warmUp: 300,
  concurrency: 4,
  chunkDelayMs: 2,
};

/** What streamed requests cost one target in CPU, in µs. */
export interface StreamCpu {
  readonly target: string;
  /** CPU per request of a short stream and of a long one. */
  readonly shortUs: number;
  readonly longUs: number;
  /** CPU per chunk: the relay. */
  readonly perChunkUs: number;
  /** CPU per request whatever its length: its way in and out. */
  readonly fixedUs: number;
}

/**
 * The part per chunk and the fixed part of two costs per request measured with `short` and
 * `long` chunks: the line through both points.
 */
export function splitCost(
  chunks: readonly [short: number, long: number],
  costs: readonly [short: number, long: number],
): { perChunk: number; fixed: number } {
  const [short, long] = chunks;
  if (!(long > short)) throw new RangeError(`Need more chunks in the long stream than ${short}`);
  const perChunk = (costs[1] - costs[0]) / (long - short);
  return { perChunk, fixed: costs[0] - perChunk * short };
}

/** Measures the CPU of the process tree at `pid` while streams are sent to `url`. */
export async function measureStreamCpu(
  target: { readonly name: string; readonly url: string; readonly pid: number },
  options: StreamCpuOptions = STREAM_CPU,
): Promise<StreamCpu> {
  const cpuPerRequest = async (chunks: number) => {
    await sendStreams(target.url, chunks, options.warmUp, options);
    const before = await processTreeUsage(target.pid);
    await sendStreams(target.url, chunks, options.requests, options);
    const after = await processTreeUsage(target.pid);
    return ((after.cpuSeconds - before.cpuSeconds) * 1e6) / options.requests;
  };
  const shortUs = await cpuPerRequest(options.chunks[0]);
  const longUs = await cpuPerRequest(options.chunks[1]);
  const { perChunk, fixed } = splitCost(options.chunks, [shortUs, longUs]);
  return { target: target.name, shortUs, longUs, perChunkUs: perChunk, fixedUs: fixed };
}

/** `count` streams of `chunks` chunks each, `options.concurrency` at a time, read to their end. */
async function sendStreams(
  url: string,
  chunks: number,
  count: number,
  options: StreamCpuOptions,
): Promise<void> {
  let left = count;
  const client = async () => {
    while (left-- > 0) {
      await streamToDone(url, {
        "x-bench-chunk-delay": String(options.chunkDelayMs),
        "x-bench-stream-chunks": String(chunks),
      });
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, client));
}

/** The results as a table; `chunks` are the short and long streams' lengths. */
export function streamCpuTable(
  results: readonly StreamCpu[],
  chunks: readonly [short: number, long: number],
): string {
  const micros = (value: number) => `${Math.round(value)} µs`;
  return table(
    ["target", `${chunks[0]} chunks`, `${chunks[1]} chunks`, "per chunk", "fixed per request"],
    results.map((result) => [
      result.target,
      micros(result.shortUs),
      micros(result.longUs),
      `${result.perChunkUs.toFixed(1)} µs`,
      micros(result.fixedUs),
    ]),
    [false, true, true, true, true],
  );
}

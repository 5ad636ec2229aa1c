/**
 * Time to first byte of a streamed chat completion: a few clients in a loop, each timing from
 * sending the request to the first body chunk, then reading the stream to its end. The backend
 * spaces its chunks, so a proxy that buffered would show a first byte as late as the last.
 * @module
 */

/** Request body of a streamed chat completion for the bench's model. */
export const STREAM_REQUEST = JSON.stringify({
  model: "bench-model",
  stream: true,
  messages: [{ role: "user", content: "Say hello" }],
});

/** The first-byte scenario: a few clients, a few hundred requests, chunks 2 ms apart. */
export const TTFB = { requests: 300, concurrency: 4, chunkDelayMs: 2, warmUp: 30 } as const;

/** What one TTFB run measured, in ms. */
export interface TtfbResult {
  readonly requests: number;
  readonly seconds: number;
  readonly rps: number;
  readonly firstByteP50Ms: number;
  readonly firstByteP99Ms: number;
  /** Every request's time to the first byte, in the order they ended. */
  readonly firstBytesMs: readonly number[];
  /** Median time to the end of the stream, to compare with the first byte. */
  readonly lastByteP50Ms: number;
}

/** Options for {@linkcode measureTtfb}. */
export interface TtfbOptions {
  readonly requests: number;
  readonly concurrency: number;
  /** Delay the backend puts between chunks, in ms. */
  readonly chunkDelayMs: number;
}

/** The `p`th percentile (0–100) of `values`, by nearest rank. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new RangeError("Cannot take a percentile of no values");
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

/** Sends `options.requests` streamed requests to `url` and times their first and last bytes. */
export async function measureTtfb(url: string, options: TtfbOptions): Promise<TtfbResult> {
  const firstBytes: number[] = [];
  const lastBytes: number[] = [];
  let left = options.requests;
  const client = async () => {
    while (left-- > 0) {
      const [first, last] = await timeOne(url, options.chunkDelayMs);
      firstBytes.push(first);
      lastBytes.push(last);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: options.concurrency }, client));
  const seconds = (performance.now() - started) / 1000;
  return {
    requests: firstBytes.length,
    seconds,
    rps: firstBytes.length / seconds,
    firstByteP50Ms: percentile(firstBytes, 50),
    firstByteP99Ms: percentile(firstBytes, 99),
    lastByteP50Ms: percentile(lastBytes, 50),
    firstBytesMs: firstBytes,
  };
}

/** Times one streamed request: [ms to the first body chunk, ms to the end]. */
async function timeOne(url: string, chunkDelayMs: number): Promise<[number, number]> {
  const started = performance.now();
  let first = 0;
  await streamToDone(url, { "x-bench-chunk-delay": String(chunkDelayMs) }, () => {
    first ||= performance.now() - started;
  });
  return [first, performance.now() - started];
}

const decoder = new TextDecoder();

/**
 * Sends the bench's streamed chat request to `url` with the fake backend's `headers` and reads
 * the answer to its end, calling `onChunk` as each body chunk arrives; throws unless it is a 200
 * that ends with `data: [DONE]`.
 */
export async function streamToDone(
  url: string,
  headers: Record<string, string>,
  onChunk?: () => void,
): Promise<void> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: STREAM_REQUEST,
  });
  if (response.status !== 200 || response.body === null) {
    const text = await response.text();
    throw new Error(`Cannot stream from ${url}: answered ${response.status} ${text}`);
  }
  let tail = "";
  for await (const bytes of response.body) {
    onChunk?.();
    tail = (tail + decoder.decode(bytes)).slice(-64);
  }
  if (!tail.includes("data: [DONE]")) {
    throw new Error(`Cannot stream from ${url}: it ended without "data: [DONE]"`);
  }
}

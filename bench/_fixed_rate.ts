/**
 * An open-loop client: JSON chat requests sent at a fixed rate whether or not earlier ones have
 * been answered, each timed from the moment it was due, not from when it went out. A client
 * that waits for answers before sending more (wrk) sends less while the target is slow and so
 * hides the slowness from its percentiles; wrk2, which fixes that, is not packaged here.
 * @module
 */

/** Options for {@linkcode fixedRate}. */
export interface FixedRateOptions {
  /** Requests per second. */
  readonly rate: number;
  readonly seconds: number;
  /** How long the fake backend holds back each answer, in ms. */
  readonly answerDelayMs: number;
}

/** What a fixed-rate run measured. */
export interface FixedRateResult {
  readonly requests: number;
  readonly errors: number;
  /** Latency from each request's due time to its whole answer, in ms, sorted ascending. */
  readonly latenciesMs: Float64Array;
  /** Requests per second actually sent. */
  readonly sentRate: number;
}

const BODY = JSON.stringify({
  model: "bench-model",
  messages: [{ role: "user", content: "Say hello" }],
});

/** Sends `options.rate` requests a second to `url` for `options.seconds`. */
export async function fixedRate(url: string, options: FixedRateOptions): Promise<FixedRateResult> {
  const total = Math.round(options.rate * options.seconds);
  const periodMs = 1000 / options.rate;
  const latencies = new Float64Array(total);
  const headers = {
    "content-type": "application/json",
    "x-bench-answer-delay": String(options.answerDelayMs),
  };
  let errors = 0;
  const answered: Promise<void>[] = [];
  const send = async (index: number, due: number) => {
    try {
      const response = await fetch(url, { method: "POST", headers, body: BODY });
      await response.arrayBuffer();
      if (response.status !== 200) errors++;
    } catch {
      errors++;
    }
    latencies[index] = performance.now() - due;
  };
  const started = performance.now();
  for (let index = 0; index < total;) {
    const now = performance.now();
    // Every request already due goes out now, so a late timer delays none of them twice.
    for (; index < total && started + index * periodMs <= now; index++) {
      answered.push(send(index, started + index * periodMs));
    }
    const wait = started + index * periodMs - performance.now();
    if (index < total && wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }
  const sentSeconds = (performance.now() - started) / 1000;
  await Promise.all(answered);
  return {
    requests: total,
    errors,
    latenciesMs: latencies.sort(),
    sentRate: total / Math.max(sentSeconds, options.seconds),
  };
}

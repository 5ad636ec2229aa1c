/**
 * Reads the load gauges out of llama.cpp's Prometheus `/metrics` text (served when
 * `llama-server` runs with `--metrics`): requests being processed and requests deferred until
 * a slot frees, and KV-cache usage where the version still reports it.
 * @module
 */
import type { LoadReading } from "./types.ts";

/** A sample line: a metric name, optional `{labels}`, a value and an optional timestamp. */
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{[^}]*\})?\s+(\S+)(?:\s+\S+)?$/;

const PROCESSING = "llamacpp:requests_processing";
const DEFERRED = "llamacpp:requests_deferred";
const KV_CACHE = "llamacpp:kv_cache_usage_ratio";

/** The load in a `/metrics` text; throws a `TypeError` when it has no llama.cpp gauges. */
export function readLlamaCppMetrics(text: string): LoadReading {
  const values = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = SAMPLE.exec(line.trim());
    const name = match?.[1];
    const value = Number(match?.[2]);
    if (name === undefined || !Number.isFinite(value)) continue;
    if (name === PROCESSING || name === DEFERRED || name === KV_CACHE) values.set(name, value);
  }
  const running = values.get(PROCESSING);
  const waiting = values.get(DEFERRED);
  const kvCache = values.get(KV_CACHE);
  if (running === undefined && waiting === undefined) {
    throw new TypeError(`Expected ${PROCESSING} and ${DEFERRED} in the metrics`);
  }
  return {
    ...(running === undefined ? {} : { running }),
    ...(waiting === undefined ? {} : { waiting }),
    ...(kvCache === undefined ? {} : { kvCacheUsage: kvCache }),
  };
}

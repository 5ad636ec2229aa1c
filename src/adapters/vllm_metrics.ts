/**
 * Reads the load gauges out of vLLM's Prometheus `/metrics` text: requests running and
 * waiting, and KV-cache usage, summed (usage: the highest) over every model the server serves.
 * @module
 */
import type { LoadReading } from "./types.ts";

/** A sample line: a metric name, optional `{labels}`, a value and an optional timestamp. */
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{[^}]*\})?\s+(\S+)(?:\s+\S+)?$/;

const RUNNING = "vllm:num_requests_running";
const WAITING = "vllm:num_requests_waiting";
/** Current vLLM names KV-cache usage so; versions before 0.10 used the second name. */
const KV_CACHE = ["vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc"];

/** The load in a `/metrics` text; throws a `TypeError` when it has no vLLM gauges at all. */
export function readVllmMetrics(text: string): LoadReading {
  let running: number | undefined;
  let waiting: number | undefined;
  let kvCache: number | undefined;
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = SAMPLE.exec(line.trim());
    if (!match) continue;
    const [, name, text] = match;
    const value = Number(text);
    if (!Number.isFinite(value)) continue;
    if (name === RUNNING) running = (running ?? 0) + value;
    else if (name === WAITING) waiting = (waiting ?? 0) + value;
    else if (name !== undefined && KV_CACHE.includes(name)) kvCache = Math.max(kvCache ?? 0, value);
  }
  if (running === undefined && waiting === undefined) {
    throw new TypeError(`Expected ${RUNNING} and ${WAITING} in the metrics`);
  }
  return {
    ...(running === undefined ? {} : { running }),
    ...(waiting === undefined ? {} : { waiting }),
    ...(kvCache === undefined ? {} : { kvCacheUsage: kvCache }),
  };
}

import assert from "node:assert/strict";
import { mergeExpositions, type MergeRule } from "./merged_exposition.ts";
import { MetricsRegistry } from "./registry.ts";

/** One worker's registry, with one metric of each rule. */
function workerMetrics(requests: number, inFlight: number, health: number, version: number) {
  const registry = new MetricsRegistry();
  const counter = registry.counter("x_requests_total", "Requests", ["model"]);
  counter.labels({ model: "m" }).inc(requests);
  if (requests > 2) counter.labels({ model: 'a "quoted" one' }).inc(1);
  const latency = registry.histogram("x_duration_seconds", "Time", ["model"], [0.1, 1]);
  for (let i = 0; i < requests; i++) latency.labels({ model: "m" }).observe(i === 0 ? 0.05 : 0.5);
  registry.gauge("x_active", "In flight", []).labels({}).set(inFlight);
  registry.gauge("process_resident_memory_bytes", "RSS", []).labels({}).set(1000 + requests);
  registry.gauge("x_health", "Health", ["instance"]).labels({ instance: "i" }).set(health);
  registry.gauge("x_config_version", "Version", []).labels({}).set(version);
  return registry.render();
}

const RULES: Record<string, MergeRule> = {
  process_resident_memory_bytes: "same",
  x_health: "per-worker",
  x_config_version: "max",
};
const ruleOf = (metric: string) => RULES[metric] ?? "sum";

Deno.test("counters and histograms add up, per label set; the header stays once", () => {
  const merged = mergeExpositions([
    { worker: 1, text: workerMetrics(2, 1, 1, 3) },
    { worker: 2, text: workerMetrics(3, 2, 0, 4) },
  ], ruleOf);
  const lines = merged.split("\n");
  assert.equal(lines.filter((line) => line === "# TYPE x_requests_total counter").length, 1);
  assert.ok(lines.includes('x_requests_total{model="m"} 5'), merged);
  assert.ok(lines.includes('x_requests_total{model="a \\"quoted\\" one"} 1'), merged);
  assert.ok(lines.includes('x_duration_seconds_bucket{model="m",le="0.1"} 2'), merged);
  assert.ok(lines.includes('x_duration_seconds_bucket{model="m",le="1"} 5'), merged);
  assert.ok(lines.includes('x_duration_seconds_bucket{model="m",le="+Inf"} 5'), merged);
  assert.ok(lines.includes('x_duration_seconds_count{model="m"} 5'), merged);
  assert.ok(lines.includes("x_active 3"), merged);
});

Deno.test("a process reading is the first worker's, a version the highest, health per worker", () => {
  const merged = mergeExpositions([
    { worker: 2, text: workerMetrics(2, 1, 1, 3) },
    { worker: 1, text: workerMetrics(3, 2, 0, 4) },
  ], ruleOf);
  const lines = merged.split("\n");
  assert.ok(lines.includes("process_resident_memory_bytes 1002"), merged);
  assert.ok(lines.includes("x_config_version 4"), merged);
  assert.ok(lines.includes('x_health{instance="i",worker="2"} 1'), merged);
  assert.ok(lines.includes('x_health{instance="i",worker="1"} 0'), merged);
});

Deno.test("one exposition merges into itself", () => {
  const text = workerMetrics(2, 1, 1, 3);
  assert.equal(mergeExpositions([{ worker: 1, text }], () => "sum"), text);
});

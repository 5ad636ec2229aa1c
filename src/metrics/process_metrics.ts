/**
 * The process's own metrics under the names Prometheus client libraries use, read at each
 * scrape: resident memory, the JavaScript heap, CPU time and start time.
 * @module
 */
import process from "node:process";
import type { MetricsRegistry } from "./registry.ts";

/** Where the numbers come from; injected for tests. */
export interface ProcessReadings {
  readonly memory: () => {
    readonly rss: number;
    readonly heapTotal: number;
    readonly heapUsed: number;
    readonly external: number;
  };
  /** CPU time used since start, in µs. */
  readonly cpu: () => { readonly user: number; readonly system: number };
  /** Clock time the process started, in ms. */
  readonly startedAt: number;
}

const REAL: ProcessReadings = {
  memory: () => Deno.memoryUsage(),
  cpu: () => process.cpuUsage(),
  startedAt: performance.timeOrigin,
};

/** Registers the process metrics on `registry`, read from `readings` at each scrape. */
export function registerProcessMetrics(
  registry: MetricsRegistry,
  readings: ProcessReadings = REAL,
): void {
  const rss = registry.gauge(
    "process_resident_memory_bytes",
    "Resident memory size in bytes",
    [],
  ).labels({});
  const heap = registry.gauge(
    "switchyard_heap_bytes",
    "The JavaScript heap: `total` reserved, `used` by live and not yet collected objects, " +
      "`external` held by buffers outside it",
    ["type"],
  );
  const heapTotal = heap.labels({ type: "total" });
  const heapUsed = heap.labels({ type: "used" });
  const external = heap.labels({ type: "external" });
  const cpu = registry.counter(
    "process_cpu_seconds_total",
    "User and system CPU time spent, in seconds",
    [],
  ).labels({});
  registry.gauge(
    "process_start_time_seconds",
    "Start time of the process since the Unix epoch, in seconds",
    [],
  ).labels({}).set(Math.floor(readings.startedAt / 1000));
  let cpuCounted = 0;
  registry.onCollect(() => {
    const memory = readings.memory();
    rss.set(memory.rss);
    heapTotal.set(memory.heapTotal);
    heapUsed.set(memory.heapUsed);
    external.set(memory.external);
    const used = readings.cpu();
    const seconds = (used.user + used.system) / 1e6;
    if (seconds > cpuCounted) {
      cpu.inc(seconds - cpuCounted);
      cpuCounted = seconds;
    }
  });
}

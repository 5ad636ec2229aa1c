import assert from "node:assert/strict";
import { registerProcessMetrics } from "./process_metrics.ts";
import { MetricsRegistry } from "./registry.ts";

Deno.test("process metrics are read at each scrape", () => {
  const registry = new MetricsRegistry();
  let memory = { rss: 50_000_000, heapTotal: 20_000_000, heapUsed: 12_000_000, external: 1_000 };
  let cpu = { user: 1_500_000, system: 500_000 };
  registerProcessMetrics(registry, {
    memory: () => memory,
    cpu: () => cpu,
    startedAt: 1_796_000_000_500,
  });
  const first = registry.render();
  assert.match(first, /^process_resident_memory_bytes 50000000$/m);
  assert.match(first, /^switchyard_heap_bytes\{type="used"\} 12000000$/m);
  assert.match(first, /^switchyard_heap_bytes\{type="total"\} 20000000$/m);
  assert.match(first, /^switchyard_heap_bytes\{type="external"\} 1000$/m);
  assert.match(first, /^process_cpu_seconds_total 2$/m);
  assert.match(first, /^process_start_time_seconds 1796000000$/m);
  assert.match(first, /^# TYPE process_cpu_seconds_total counter$/m);

  memory = { ...memory, rss: 60_000_000 };
  cpu = { user: 2_000_000, system: 750_000 };
  const second = registry.render();
  assert.match(second, /^process_resident_memory_bytes 60000000$/m);
  assert.match(second, /^process_cpu_seconds_total 2.75$/m);
});

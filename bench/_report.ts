/**
 * Prints the bench's results: one table of every target and scenario, then the ratios that
 * answer the product's questions: how much the gateway adds, and what each transport costs.
 * @module
 */

/** A measured scenario. */
export type Scenario = "chat" | "stream" | "ttfb";

/** What the bench measured for one target in one scenario. */
export interface Row {
  readonly target: string;
  readonly scenario: Scenario;
  readonly rps: number;
  /** For `ttfb`, time to the first body chunk; else time to the whole response. */
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** CPU time of the target's processes per request, in µs. */
  readonly cpuPerRequestUs: number;
  /** CPU time of the fake backend per request, in µs; undefined when it is the target. */
  readonly backendCpuPerRequestUs: number | undefined;
  readonly note?: string;
}

const SCENARIO_LABELS: Record<Scenario, string> = {
  chat: "chat (JSON)",
  stream: "chat (SSE, whole)",
  ttfb: "stream first byte",
};

const integer = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

function ms(value: number): string {
  return `${value < 10 ? value.toFixed(2) : value.toFixed(1)} ms`;
}

function ratio(value: number | undefined, base: number | undefined): string {
  if (value === undefined || base === undefined || base === 0) return "-";
  return `${value / base < 10 ? (value / base).toFixed(2) : (value / base).toFixed(1)}x`;
}

/** The results table, one line per target and scenario. */
export function resultTable(rows: readonly Row[]): string {
  const header = ["target", "scenario", "req/s", "p50", "p99", "CPU/req", "backend CPU/req", ""];
  const lines = rows.map((row) => [
    row.target,
    SCENARIO_LABELS[row.scenario],
    integer.format(row.rps),
    ms(row.p50Ms),
    ms(row.p99Ms),
    `${integer.format(row.cpuPerRequestUs)} µs`,
    row.backendCpuPerRequestUs === undefined
      ? "-"
      : `${integer.format(row.backendCpuPerRequestUs)} µs`,
    row.note ?? "",
  ]);
  return table(header, lines, [false, false, true, true, true, true, true, false]);
}

/**
 * The ratios: each proxy against the backend alone, and the gateway against the bare proxy,
 * piping natively and watching each chunk.
 */
export function ratioTable(
  rows: readonly Row[],
  names: {
    direct: string;
    bare: string;
    watched: string;
    gateway: string;
    /** The gateway with metrics and request logs off, to show what observing costs. */
    unobserved: string;
    proxies: readonly string[];
  },
): string {
  const find = (target: string, scenario: Scenario) =>
    rows.find((row) => row.target === target && row.scenario === scenario);
  const header = ["", "chat req/s", "stream req/s", "chat CPU/req", "stream CPU/req"];
  const lines = names.proxies.map((target) => [
    `${target} / ${names.direct}`,
    ratio(find(target, "chat")?.rps, find(names.direct, "chat")?.rps),
    ratio(find(target, "stream")?.rps, find(names.direct, "stream")?.rps),
    "",
    "",
  ]);
  // Without the gateway (`BENCH_ONLY=transports`) there is nothing to weigh it against.
  const bases = find(names.gateway, "chat") ? [names.bare, names.watched, names.unobserved] : [];
  for (const base of bases) {
    lines.push([
      `${names.gateway} / ${base}`,
      ratio(find(names.gateway, "chat")?.rps, find(base, "chat")?.rps),
      ratio(find(names.gateway, "stream")?.rps, find(base, "stream")?.rps),
      ratio(find(names.gateway, "chat")?.cpuPerRequestUs, find(base, "chat")?.cpuPerRequestUs),
      ratio(find(names.gateway, "stream")?.cpuPerRequestUs, find(base, "stream")?.cpuPerRequestUs),
    ]);
  }
  const gatewayTtfb = find(names.gateway, "ttfb");
  const bareTtfb = find(names.bare, "ttfb");
  const directTtfb = find(names.direct, "ttfb");
  const extra = gatewayTtfb && bareTtfb && directTtfb
    ? `\nFirst byte p50: gateway ${ms(gatewayTtfb.p50Ms)}, bare proxy ${ms(bareTtfb.p50Ms)}, ` +
      `direct ${ms(directTtfb.p50Ms)}: the gateway adds ` +
      `${(gatewayTtfb.p50Ms - directTtfb.p50Ms).toFixed(2)} ms over direct, ` +
      `${(gatewayTtfb.p50Ms - bareTtfb.p50Ms).toFixed(2)} ms over the bare proxy`
    : "";
  return table(header, lines, [false, true, true, true, true]) + extra;
}

/**
 * The ratios of pairs of targets measured one after another, `[compared, base]`: CPU per request
 * and throughput in both throughput scenarios, and the median time to the first byte. A pair
 * with a target that did not run is left out.
 */
export function pairRatioTable(
  rows: readonly Row[],
  pairs: readonly (readonly [compared: string, base: string])[],
): string {
  const find = (target: string, scenario: Scenario) =>
    rows.find((row) => row.target === target && row.scenario === scenario);
  const header = [
    "",
    "chat CPU/req",
    "stream CPU/req",
    "chat req/s",
    "stream req/s",
    "first byte p50",
  ];
  const lines = pairs
    .filter(([compared, base]) => find(compared, "chat") && find(base, "chat"))
    .map(([compared, base]) => {
      const both = (scenario: Scenario, value: (row: Row) => number) => {
        const over = find(compared, scenario);
        const under = find(base, scenario);
        return ratio(over && value(over), under && value(under));
      };
      return [
        `${compared} / ${base}`,
        both("chat", (row) => row.cpuPerRequestUs),
        both("stream", (row) => row.cpuPerRequestUs),
        both("chat", (row) => row.rps),
        both("stream", (row) => row.rps),
        both("ttfb", (row) => row.p50Ms),
      ];
    });
  return table(header, lines, [false, true, true, true, true, true]);
}

/** Columns padded to their widest cell, right-aligned where `right` says. */
export function table(
  header: readonly string[],
  lines: readonly string[][],
  right: readonly boolean[],
): string {
  const all = [header, ...lines];
  const widths = header.map((_, column) =>
    Math.max(...all.map((line) => [...(line[column] ?? "")].length))
  );
  const format = (line: readonly string[]) =>
    line.map((cell, column) => {
      const width = widths[column] ?? 0;
      return right[column] ? cell.padStart(width) : cell.padEnd(width);
    }).join("  ").trimEnd();
  const rule = widths.map((width) => "-".repeat(width)).join("  ").trimEnd();
  return [format(header), rule, ...lines.map(format)].join("\n");
}

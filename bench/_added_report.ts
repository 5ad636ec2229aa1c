/**
 * A table of latency percentiles per target, with what each proxy adds over the backend alone
 * ("direct") and the gateway's addition against each base's.
 * @module
 */
import { table } from "./_report.ts";

/** The percentiles shown, by label. */
export const ADDED_PERCENTILES = [["p50", 50], ["p99", 99], ["p99.9", 99.9]] as const;

/** One target's latencies in ms, by percentile label, and a note for its line. */
export interface LatencyRow {
  readonly target: string;
  readonly ms: Readonly<Record<typeof ADDED_PERCENTILES[number][0], number>>;
  readonly note: string;
}

function ms(value: number): string {
  if (!Number.isFinite(value)) return "-";
  return `${Math.abs(value) < 10 ? value.toFixed(2) : value.toFixed(1)} ms`;
}

/** `value / base`, or "-" where either adds nothing measurable (is not above zero). */
function ratio(value: number, base: number): string {
  if (!(value > 0) || !(base > 0) || !Number.isFinite(value) || !Number.isFinite(base)) return "-";
  return `${value / base < 10 ? (value / base).toFixed(2) : (value / base).toFixed(1)}x`;
}

/**
 * Each target's percentiles and what it adds over `names.direct`, then the gateway's addition
 * against each base's ("-" where either adds nothing measurable).
 */
export function addedTable(
  rows: readonly LatencyRow[],
  names: { direct: string; gateway: string; bases: readonly string[] },
): string {
  const direct = rows.find((row) => row.target === names.direct);
  const added = (row: LatencyRow | undefined, label: typeof ADDED_PERCENTILES[number][0]) =>
    row && direct ? row.ms[label] - direct.ms[label] : NaN;
  const labels = ADDED_PERCENTILES.map(([label]) => label);
  const header = ["target", ...labels, ...labels.map((label) => `added ${label}`), ""];
  const lines = rows.map((row) => [
    row.target,
    ...labels.map((label) => ms(row.ms[label])),
    ...labels.map((label) => row === direct ? "-" : ms(added(row, label))),
    row.note,
  ]);
  const gateway = rows.find((row) => row.target === names.gateway);
  const ratioHeader = ["", ...labels.map((label) => `added ${label}`)];
  const ratioLines = names.bases.flatMap((name) => {
    const base = rows.find((row) => row.target === name);
    if (!gateway || !base) return [];
    return [[
      `${names.gateway} / ${name}`,
      ...labels.map((label) => ratio(added(gateway, label), added(base, label))),
    ]];
  });
  return table(header, lines, [false, ...labels.flatMap(() => [true, true]), false]) + "\n\n" +
    table(ratioHeader, ratioLines, [false, ...labels.map(() => true)]);
}

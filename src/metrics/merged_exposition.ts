/**
 * One scrape of several workers: their expositions in the Prometheus text format 0.0.4, merged
 * into one, metric by metric, by each metric's {@link MergeRule}. Series of the same name and
 * labels are combined; a series only some workers have is kept as it is.
 * @module
 */
import { formatValue } from "./registry.ts";

/**
 * How one metric's series of several workers become one:
 * - `sum`: added up (counters, histograms, gauges of what each worker holds, e.g. requests in
 *   flight);
 * - `same`: the first worker's (the one answering the scrape), for readings of the whole process
 *   that every worker takes alike, e.g. resident memory;
 * - `max` / `min`: the highest / lowest, e.g. the config version, the start time;
 * - `per-worker`: every worker's series, each with a `worker` label, where a sum means nothing,
 *   e.g. the health each worker's probes found.
 */
export type MergeRule = "sum" | "same" | "max" | "min" | "per-worker";

/** What one worker rendered. */
export interface WorkerExposition {
  /** The worker's number, for the `worker` label of `per-worker` metrics. */
  readonly worker: number;
  /** Its exposition in the text format 0.0.4. */
  readonly text: string;
}

interface MergedFamily {
  readonly header: string[];
  readonly rule: MergeRule;
  /** Value by the sample's name and labels, in the order first seen. */
  readonly samples: Map<string, number>;
}

/**
 * Merges the expositions, the first one's metrics first; `ruleOf` names each metric's rule
 * (from its `# HELP` line's name).
 */
export function mergeExpositions(
  expositions: readonly WorkerExposition[],
  ruleOf: (metric: string) => MergeRule,
): string {
  const families = new Map<string, MergedFamily>();
  for (const { worker, text } of expositions) {
    let family: MergedFamily | undefined;
    let firstSeen = false;
    for (const line of text.split("\n")) {
      if (line === "") continue;
      if (line.startsWith("# HELP ")) {
        const name = line.slice(7, indexOrEnd(line.indexOf(" ", 7), line));
        family = families.get(name);
        firstSeen = family === undefined;
        if (family === undefined) {
          families.set(name, family = { header: [], rule: ruleOf(name), samples: new Map() });
        }
        if (firstSeen) family.header.push(line);
        continue;
      }
      if (line.startsWith("#")) {
        if (firstSeen) family?.header.push(line);
        continue;
      }
      if (family === undefined) continue;
      const cut = line.lastIndexOf(" ");
      const series = line.slice(0, cut);
      const value = parseValue(line.slice(cut + 1));
      combine(family, family.rule === "per-worker" ? withWorker(series, worker) : series, value);
    }
  }
  const lines: string[] = [];
  for (const family of families.values()) {
    lines.push(...family.header);
    for (const [series, value] of family.samples) lines.push(`${series} ${formatValue(value)}`);
  }
  return lines.length === 0 ? "" : `${lines.join("\n")}\n`;
}

function combine(family: MergedFamily, series: string, value: number): void {
  const before = family.samples.get(series);
  if (before === undefined) {
    family.samples.set(series, value);
    return;
  }
  switch (family.rule) {
    case "sum":
      family.samples.set(series, before + value);
      break;
    case "max":
      family.samples.set(series, Math.max(before, value));
      break;
    case "min":
      family.samples.set(series, Math.min(before, value));
      break;
    case "same":
    case "per-worker":
      break;
  }
}

function indexOrEnd(index: number, line: string): number {
  return index === -1 ? line.length : index;
}

/** `name{labels}` with `worker="n"` added to its labels. */
function withWorker(series: string, worker: number): string {
  const label = `worker="${worker}"`;
  if (!series.endsWith("}")) return `${series}{${label}}`;
  return series.endsWith("{}")
    ? `${series.slice(0, -1)}${label}}`
    : `${series.slice(0, -1)},${label}}`;
}

function parseValue(text: string): number {
  if (text === "+Inf") return Infinity;
  if (text === "-Inf") return -Infinity;
  return Number(text);
}

/**
 * A small Prometheus metrics registry: counters, gauges and histograms with labels, rendered in
 * the text exposition format 0.0.4.
 *
 * Recording is meant for the hot path of the proxy. `labels(values)` finds the series of a label
 * set by walking one map per label name, so once a label set has been used, looking it up again
 * and recording into it allocates nothing; callers may also keep the returned handle.
 *
 * Memory stays bounded whatever clients send: a metric holds at most `maxSeriesPerMetric`
 * series. Once it holds `maxSeriesPerMetric - 1` series besides the overflow series, each new
 * label set is folded into the overflow series, whose every label value is
 * {@link OVERFLOW_LABEL_VALUE} (`"_other"`). That last slot is kept for it, so the overflow series
 * always fits. A label set whose every value really is `"_other"` is the overflow series too.
 * @module
 */

/** The `Content-Type` of {@link MetricsRegistry.render}'s output. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Every label value of the series that label sets beyond a metric's cap are folded into. */
export const OVERFLOW_LABEL_VALUE = "_other";

/** How a {@link MetricsRegistry} bounds its memory. */
export interface MetricsRegistryOptions {
  /**
   * The most series one metric holds, the overflow series included; a positive integer. With 1,
   * every label set of a metric with labels is folded into the overflow series.
   * @default 2000
   */
  readonly maxSeriesPerMetric?: number;
}

/** The series of one label set of a counter. */
export interface CounterSeries {
  /** Adds `by`; throws a RangeError unless it is finite and not negative. @default 1 */
  inc(by?: number): void;
}

/** The series of one label set of a gauge. */
export interface GaugeSeries {
  /** Sets the value; any number, NaN and infinities included. */
  set(value: number): void;
  /** Adds `by`. @default 1 */
  inc(by?: number): void;
  /** Subtracts `by`. @default 1 */
  dec(by?: number): void;
}

/** The series of one label set of a histogram. */
export interface HistogramSeries {
  /**
   * Counts `value` in the first bucket whose upper bound is at least `value` (and so in every
   * bucket after it) and adds it to the sum. As in the official clients, NaN lands in the `+Inf`
   * bucket only and makes the sum NaN.
   */
  observe(value: number): void;
}

/**
 * A counter; `L` is the union of its label names. `labels` returns the same handle for the same
 * label values, so callers may keep it. It throws a TypeError when a label name is missing, a
 * name is not one of the metric's, or a value is not a string.
 */
export interface Counter<L extends string> {
  /** The series of a label set, made on its first use. */
  labels(values: Readonly<Record<L, string>>): CounterSeries;
}

/** A gauge; `L` is the union of its label names. `labels` behaves as {@link Counter.labels}. */
export interface Gauge<L extends string> {
  /** The series of a label set, made on its first use. */
  labels(values: Readonly<Record<L, string>>): GaugeSeries;
  /**
   * Drops every series, for gauges rebuilt from live state at each scrape. Handles taken before
   * are detached: recording into them no longer shows in the output.
   */
  reset(): void;
}

/** A histogram; `L` is the union of its label names. `labels` behaves as {@link Counter.labels}. */
export interface Histogram<L extends string> {
  /** The series of a label set, made on its first use. */
  labels(values: Readonly<Record<L, string>>): HistogramSeries;
}

type MetricType = "counter" | "gauge" | "histogram";

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const HISTOGRAM_SUFFIXES = ["_bucket", "_sum", "_count"] as const;

/** A number as Prometheus writes it: `+Inf`, `-Inf`, `NaN`, integers below 1e21 in plain digits. */
export function formatValue(value: number): string {
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value); // NaN as "NaN", -0 as "0", the shortest digits that read back exactly
}

function escapeHelp(text: string): string {
  return text.replaceAll("\\", "\\\\").replaceAll("\n", "\\n");
}

function escapeLabelValue(value: string): string {
  return value.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");
}

/** One level of the lookup tree of a metric: one map per label name, a series at the end. */
interface LabelNode<S> {
  children: Map<string, LabelNode<S>> | undefined;
  series: S | undefined;
}

/** What every series can do: write its sample lines. */
interface RenderedSeries {
  appendTo(lines: string[], name: string): void;
}

/** What the registry keeps of a metric. */
interface RenderedFamily {
  readonly name: string;
  appendTo(lines: string[]): void;
}

class CounterChild implements CounterSeries, RenderedSeries {
  readonly #metric: string;
  readonly #labels: string;
  #value = 0;

  constructor(metric: string, labels: string) {
    this.#metric = metric;
    this.#labels = labels;
  }

  inc(by = 1): void {
    if (!(by >= 0 && by !== Infinity)) { // also refuses NaN
      throw new RangeError(
        `Counter "${this.#metric}" can only go up by a finite amount, got ${by}`,
      );
    }
    this.#value += by;
  }

  appendTo(lines: string[], name: string): void {
    lines.push(`${name}${braced(this.#labels)} ${formatValue(this.#value)}`);
  }
}

class GaugeChild implements GaugeSeries, RenderedSeries {
  readonly #labels: string;
  #value = 0;

  constructor(labels: string) {
    this.#labels = labels;
  }

  set(value: number): void {
    this.#value = value;
  }

  inc(by = 1): void {
    this.#value += by;
  }

  dec(by = 1): void {
    this.#value -= by;
  }

  appendTo(lines: string[], name: string): void {
    lines.push(`${name}${braced(this.#labels)} ${formatValue(this.#value)}`);
  }
}

class HistogramChild implements HistogramSeries, RenderedSeries {
  readonly #labels: string;
  readonly #bounds: readonly number[];
  /** `le="…"` of each bucket, `+Inf` last. */
  readonly #les: readonly string[];
  /** Observations per bucket, not cumulative; the last is the `+Inf` bucket. */
  readonly #counts: Float64Array;
  #sum = 0;

  constructor(labels: string, bounds: readonly number[], les: readonly string[]) {
    this.#labels = labels;
    this.#bounds = bounds;
    this.#les = les;
    this.#counts = new Float64Array(les.length);
  }

  observe(value: number): void {
    const bounds = this.#bounds;
    let bucket = 0;
    while (bucket < bounds.length && !(value <= bounds[bucket]!)) bucket++;
    this.#counts[bucket]!++;
    this.#sum += value;
  }

  appendTo(lines: string[], name: string): void {
    const prefix = this.#labels === "" ? "" : `${this.#labels},`;
    let cumulative = 0;
    for (let bucket = 0; bucket < this.#les.length; bucket++) {
      cumulative += this.#counts[bucket]!;
      lines.push(`${name}_bucket{${prefix}${this.#les[bucket]!}} ${formatValue(cumulative)}`);
    }
    lines.push(`${name}_sum${braced(this.#labels)} ${formatValue(this.#sum)}`);
    lines.push(`${name}_count${braced(this.#labels)} ${formatValue(cumulative)}`);
  }
}

function braced(labels: string): string {
  return labels === "" ? "" : `{${labels}}`;
}

/**
 * The series of one metric, found by label values, in the order they were first used, capped
 * at `maxSeries` with the overflow series in the last slot.
 */
class Family<L extends string, S extends RenderedSeries> implements RenderedFamily {
  readonly name: string;
  readonly #header: string;
  readonly #labelNames: readonly L[];
  readonly #maxSeries: number;
  readonly #newSeries: (labels: string) => S;
  #root: LabelNode<S> = { children: undefined, series: undefined };
  #series: S[] = [];
  /** Series other than the overflow one. */
  #ordinary = 0;
  #overflow: S | undefined = undefined;

  constructor(
    name: string,
    help: string,
    type: MetricType,
    labelNames: readonly L[],
    maxSeries: number,
    newSeries: (labels: string) => S,
  ) {
    this.name = name;
    this.#header = `# HELP ${name} ${escapeHelp(help)}\n# TYPE ${name} ${type}`;
    this.#labelNames = [...labelNames];
    this.#maxSeries = maxSeries;
    this.#newSeries = newSeries;
  }

  labels(values: Readonly<Record<L, string>>): S {
    const names = this.#labelNames;
    let node: LabelNode<S> | undefined = this.#root;
    for (let i = 0; i < names.length && node !== undefined; i++) {
      node = node.children?.get(values[names[i]!]);
    }
    // Map keys are strings, so a hit means every label name is there with a string value.
    if (node?.series !== undefined && countKeys(values) === names.length) return node.series;
    this.#check(values);
    if (node?.series !== undefined) return node.series;
    if (this.#ordinary < this.#maxSeries - 1) {
      this.#ordinary++;
      return this.#add(values);
    }
    return this.#overflow ??= this.#add(undefined);
  }

  reset(): void {
    this.#root = { children: undefined, series: undefined };
    this.#series = [];
    this.#ordinary = 0;
    this.#overflow = undefined;
  }

  appendTo(lines: string[]): void {
    lines.push(this.#header);
    for (const series of this.#series) series.appendTo(lines, this.name);
  }

  /** Adds the series of `values`, or the overflow series when `values` is undefined. */
  #add(values: Readonly<Record<L, string>> | undefined): S {
    const pairs: string[] = [];
    let node = this.#root;
    for (const name of this.#labelNames) {
      const value = values === undefined ? OVERFLOW_LABEL_VALUE : values[name];
      pairs.push(`${name}="${escapeLabelValue(value)}"`);
      node.children ??= new Map();
      let child = node.children.get(value);
      if (child === undefined) {
        child = { children: undefined, series: undefined };
        node.children.set(value, child);
      }
      node = child;
    }
    const series = this.#newSeries(pairs.join(","));
    node.series = series;
    this.#series.push(series);
    if (
      values === undefined ||
      this.#labelNames.every((name) => values[name] === OVERFLOW_LABEL_VALUE)
    ) {
      this.#overflow = series;
      if (values !== undefined) this.#ordinary--;
    }
    return series;
  }

  /**
   * Throws a TypeError unless `values` has exactly the metric's label names, with strings.
   * Allocates nothing when it passes, as label sets folded into the overflow series come here on
   * every call.
   */
  #check(values: Readonly<Record<L, string>>): void {
    const names = this.#labelNames;
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      if (!Object.hasOwn(values, name)) {
        throw new TypeError(`${this.#takes()}; label "${name}" is missing`);
      }
      const value: unknown = values[name];
      if (typeof value !== "string") {
        throw new TypeError(
          `Label "${name}" of metric "${this.name}" must be a string, got ${String(value)}`,
        );
      }
    }
    if (countKeys(values) === names.length) return;
    for (const key in values) {
      if (!(names as readonly string[]).includes(key)) {
        throw new TypeError(`${this.#takes()}; label "${key}" is not one of them`);
      }
    }
  }

  #takes(): string {
    const names = this.#labelNames.map((name) => `"${name}"`).join(", ");
    return `Metric "${this.name}" takes ${names === "" ? "no labels" : `labels ${names}`}`;
  }
}

/** The number of enumerable keys of `values`, without making an array of them. */
function countKeys(values: object): number {
  let count = 0;
  for (const _key in values) count++;
  return count;
}

/**
 * A set of metrics rendered together at each scrape. Names are checked when a metric is
 * registered: metric names follow `[a-zA-Z_:][a-zA-Z0-9_:]*`, label names `[a-zA-Z_][a-zA-Z0-9_]*`
 * without a leading `__`, and a histogram may not have a label `le`. Registering a name twice
 * throws, as does a name that one of a histogram's `_bucket`, `_sum` or `_count` lines uses.
 * Metrics render in the order they were registered, and their series in the order their label
 * sets were first used.
 */
export class MetricsRegistry {
  readonly #maxSeries: number;
  readonly #families: RenderedFamily[] = [];
  /** Every name a sample line may carry, to the metric that writes it. */
  readonly #sampleNames = new Map<string, string>();
  readonly #collectors: (() => void)[] = [];

  /** Throws a RangeError when `maxSeriesPerMetric` is not a positive integer. */
  constructor(options: MetricsRegistryOptions = {}) {
    const maxSeries = options.maxSeriesPerMetric ?? 2000;
    if (!Number.isInteger(maxSeries) || maxSeries < 1) {
      throw new RangeError(`maxSeriesPerMetric must be a positive integer, got ${maxSeries}`);
    }
    this.#maxSeries = maxSeries;
  }

  /** Registers a counter; throws a TypeError on a bad or taken name. */
  counter<L extends string>(name: string, help: string, labelNames: readonly L[]): Counter<L> {
    this.#checkNames(name, labelNames, "counter");
    return this.#register(
      new Family(name, help, "counter", labelNames, this.#maxSeries, (labels) => {
        return new CounterChild(name, labels);
      }),
      [name],
    );
  }

  /** Registers a gauge; throws a TypeError on a bad or taken name. */
  gauge<L extends string>(name: string, help: string, labelNames: readonly L[]): Gauge<L> {
    this.#checkNames(name, labelNames, "gauge");
    return this.#register(
      new Family(name, help, "gauge", labelNames, this.#maxSeries, (labels) => {
        return new GaugeChild(labels);
      }),
      [name],
    );
  }

  /**
   * Registers a histogram with the upper bounds of its buckets, which must be finite and
   * strictly ascending (a RangeError otherwise); the `+Inf` bucket is added. No bounds at all
   * leaves only `+Inf`, a count and a sum. Throws a TypeError on a bad or taken name.
   */
  histogram<L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    buckets: readonly number[],
  ): Histogram<L> {
    this.#checkNames(name, labelNames, "histogram");
    buckets.forEach((bound, i) => {
      if (!Number.isFinite(bound)) {
        throw new RangeError(`Bucket bounds of "${name}" must be finite, got ${bound}`);
      }
      const previous = buckets[i - 1];
      if (previous !== undefined && !(bound > previous)) {
        throw new RangeError(
          `Bucket bounds of "${name}" must be strictly ascending, got ${bound} after ${previous}`,
        );
      }
    });
    const bounds = [...buckets];
    const les = [...bounds.map(formatValue), "+Inf"].map((le) => `le="${le}"`);
    const sampleNames = [name, ...HISTOGRAM_SUFFIXES.map((suffix) => name + suffix)];
    return this.#register(
      new Family(name, help, "histogram", labelNames, this.#maxSeries, (labels) => {
        return new HistogramChild(labels, bounds, les);
      }),
      sampleNames,
    );
  }

  /**
   * Adds a function called at each scrape, in the order added, before rendering; e.g. to set
   * gauges from live state. An error it throws is passed on to the caller of `render`.
   */
  onCollect(collect: () => void): void {
    this.#collectors.push(collect);
  }

  /**
   * Runs the collect functions, then returns every metric in the text exposition format 0.0.4
   * ({@link PROMETHEUS_CONTENT_TYPE}), ending with a newline. A metric without series still
   * gets its `# HELP` and `# TYPE` lines.
   */
  render(): string {
    for (const collect of this.#collectors) collect();
    const lines: string[] = [];
    for (const family of this.#families) family.appendTo(lines);
    return lines.length === 0 ? "" : `${lines.join("\n")}\n`;
  }

  #checkNames(name: string, labelNames: readonly string[], type: MetricType): void {
    if (!METRIC_NAME.test(name)) {
      throw new TypeError(
        `Metric name "${name}" is not valid: it must match ${METRIC_NAME.source}`,
      );
    }
    const seen = new Set<string>();
    for (const label of labelNames) {
      if (!LABEL_NAME.test(label)) {
        throw new TypeError(
          `Label name "${label}" of "${name}" is not valid: it must match ${LABEL_NAME.source}`,
        );
      }
      if (label.startsWith("__")) {
        throw new TypeError(`Label name "${label}" of "${name}" is reserved: it starts with "__"`);
      }
      if (type === "histogram" && label === "le") {
        throw new TypeError(`Label name "le" of histogram "${name}" is reserved for its buckets`);
      }
      if (seen.has(label)) {
        throw new TypeError(`Label name "${label}" of "${name}" is given twice`);
      }
      seen.add(label);
    }
  }

  #register<F extends RenderedFamily>(family: F, sampleNames: readonly string[]): F {
    for (const sampleName of sampleNames) {
      const owner = this.#sampleNames.get(sampleName);
      if (owner === undefined) continue;
      throw new TypeError(
        owner === family.name
          ? `Metric "${owner}" is already registered`
          : `Metric "${family.name}" would write lines named "${sampleName}", which "${owner}" uses`,
      );
    }
    for (const sampleName of sampleNames) this.#sampleNames.set(sampleName, family.name);
    this.#families.push(family);
    return family;
  }
}

import assert from "node:assert/strict";
import { MetricsRegistry, OVERFLOW_LABEL_VALUE, PROMETHEUS_CONTENT_TYPE } from "./registry.ts";

// A tiny parser of the text exposition format 0.0.4, as far as this registry writes it: HELP,
// TYPE and sample lines (no timestamps), checked line by line against the grammar and then for
// the structure a scraper relies on.

const NAME = String.raw`[a-zA-Z_:][a-zA-Z0-9_:]*`;
const LABEL_NAME = String.raw`[a-zA-Z_][a-zA-Z0-9_]*`;
const LABEL_VALUE = String.raw`"(?:[^"\\\n]|\\[\\"n])*"`;
const PAIR = `${LABEL_NAME}=${LABEL_VALUE}`;
const VALUE = String.raw`[+-]?Inf|NaN|[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?`;
const HELP_LINE = new RegExp(String.raw`^# HELP (${NAME}) ((?:[^\\\n]|\\[\\n])*)$`);
const TYPE_LINE = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`);
const SAMPLE_LINE = new RegExp(`^(${NAME})(?:\\{((?:${PAIR}(?:,${PAIR})*)?,?)\\})? (${VALUE})$`);
const PAIRS = new RegExp(`(${LABEL_NAME})=(${LABEL_VALUE})`, "g");

interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

interface Family {
  help?: string;
  type?: string;
  readonly samples: Sample[];
}

function unescape(text: string): string {
  return text.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));
}

function parseValue(text: string): number {
  if (text === "+Inf" || text === "Inf") return Infinity;
  if (text === "-Inf") return -Infinity;
  return Number(text);
}

/**
 * The metric a sample line belongs to: the metric of the last HELP or TYPE line, by name or as a
 * histogram's `_bucket`, `_sum` or `_count`; otherwise an untyped metric of its own, whose
 * samples must not be split up.
 */
function ownerOf(name: string, current: string | undefined, families: Map<string, Family>): string {
  if (current !== undefined) {
    if (name === current) return current;
    const histogram = families.get(current)?.type === "histogram";
    if (histogram && ["_bucket", "_sum", "_count"].some((suffix) => name === current + suffix)) {
      return current;
    }
  }
  assert.ok(!families.has(name), `samples of "${name}" are not together`);
  return name;
}

/** Parses exposition text, throwing an AssertionError that names the first bad line. */
function parseExposition(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  if (text === "") return families;
  assert.ok(text.endsWith("\n"), "the output ends with a newline");
  const lines = text.slice(0, -1).split("\n");
  let current: string | undefined;
  const seenSeries = new Set<string>();
  lines.forEach((line, index) => {
    const where = `line ${index + 1}: ${JSON.stringify(line)}`;
    const family = (name: string): Family => {
      let found = families.get(name);
      if (found === undefined) families.set(name, found = { samples: [] });
      return found;
    };
    const help = HELP_LINE.exec(line);
    const type = TYPE_LINE.exec(line);
    const sample = SAMPLE_LINE.exec(line);
    if (help !== null) {
      const entry = family(help[1]!);
      assert.equal(entry.help, undefined, `second HELP, ${where}`);
      assert.equal(entry.samples.length, 0, `HELP after samples, ${where}`);
      entry.help = unescape(help[2]!);
      current = help[1]!;
    } else if (type !== null) {
      const entry = family(type[1]!);
      assert.equal(entry.type, undefined, `second TYPE, ${where}`);
      assert.equal(entry.samples.length, 0, `TYPE after samples, ${where}`);
      entry.type = type[2]!;
      current = type[1]!;
    } else if (sample !== null) {
      const name = sample[1]!;
      current = ownerOf(name, current, families);
      const entry = family(current);
      const labels: Record<string, string> = {};
      for (const [, label, quoted] of (sample[2] ?? "").matchAll(PAIRS)) {
        assert.ok(!Object.hasOwn(labels, label!), `label "${label}" twice, ${where}`);
        labels[label!] = unescape(quoted!.slice(1, -1));
      }
      const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
      assert.ok(!seenSeries.has(key), `series twice, ${where}`);
      seenSeries.add(key);
      entry.samples.push({ name, labels, value: parseValue(sample[3]!) });
    } else {
      assert.fail(`not a HELP, TYPE or sample line, ${where}`);
    }
  });
  for (const [name, family] of families) {
    if (family.type === "histogram") checkHistogram(name, family.samples);
  }
  return families;
}

/** Buckets ascend to `+Inf` with cumulative counts, and `_count` is the `+Inf` bucket. */
function checkHistogram(name: string, samples: readonly Sample[]): void {
  const bySeries = new Map<string, { les: number[]; counts: number[]; count?: number }>();
  for (const sample of samples) {
    const { le, ...rest } = sample.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    let series = bySeries.get(key);
    if (series === undefined) bySeries.set(key, series = { les: [], counts: [] });
    if (sample.name === `${name}_bucket`) {
      assert.ok(le !== undefined, `bucket of "${name}" without le`);
      series.les.push(parseValue(le));
      series.counts.push(sample.value);
    } else if (sample.name === `${name}_count`) {
      series.count = sample.value;
    }
  }
  for (const series of bySeries.values()) {
    assert.equal(series.les.at(-1), Infinity, `buckets of "${name}" end with +Inf`);
    for (let i = 1; i < series.les.length; i++) {
      assert.ok(series.les[i]! > series.les[i - 1]!, `le of "${name}" ascend`);
      assert.ok(series.counts[i]! >= series.counts[i - 1]!, `buckets of "${name}" are cumulative`);
    }
    assert.equal(series.count, series.counts.at(-1), `_count of "${name}" is the +Inf bucket`);
  }
}

/** Renders, checks the output against the grammar, and returns it. */
function renderChecked(registry: MetricsRegistry): string {
  const text = registry.render();
  parseExposition(text);
  return text;
}

Deno.test("the test parser refuses what the exposition format does not allow", () => {
  const bad = [
    "# HELP 1abc help\n",
    "# TYPE a countr\n",
    'a{b="c"} 1 2 3\n',
    'a{b="c} 1\n',
    'a{b="c\\x"} 1\n',
    'a{__b-c="d"} 1\n',
    "a 1e\n",
    "a  1\n",
    "a 1", // no final newline
    "a 1\n\n",
    "# HELP a x\n# HELP a y\n",
    "a 1\n# TYPE a counter\n",
    "# TYPE a counter\na 1\n# TYPE b gauge\na 2\n",
    'a{b="c"} 1\na{b="c"} 2\n',
    '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_count 1\n',
    '# TYPE h histogram\nh_bucket{le="1"} 1\nh_count 1\n',
  ];
  for (const text of bad) {
    assert.throws(() => parseExposition(text), assert.AssertionError, JSON.stringify(text));
  }
  const good = parseExposition(
    '# HELP a A \\\\ b\\n.\n# TYPE a gauge\na{b="x\\"y"} -Inf\na{b="z"} 1.5e-7\n',
  );
  assert.deepEqual(good.get("a"), {
    help: "A \\ b\n.",
    type: "gauge",
    samples: [
      { name: "a", labels: { b: 'x"y' }, value: -Infinity },
      { name: "a", labels: { b: "z" }, value: 1.5e-7 },
    ],
  });
});

Deno.test("a small registry renders exactly", () => {
  const registry = new MetricsRegistry();
  const requests = registry.counter("switchyard_requests_total", "Requests handled.", [
    "method",
    "code",
  ]);
  requests.labels({ method: "GET", code: "200" }).inc();
  requests.labels({ method: "POST", code: "502" }).inc();
  requests.labels({ method: "GET", code: "200" }).inc(2);
  const inFlight = registry.gauge("switchyard_in_flight_requests", "Requests in flight.", []);
  const gauge = inFlight.labels({});
  gauge.set(3);
  gauge.inc();
  gauge.dec(2);
  const latency = registry.histogram(
    "switchyard_upstream_seconds",
    "Upstream latency.",
    ["provider"],
    [0.25, 0.5, 1],
  );
  const openai = latency.labels({ provider: "openai" });
  for (const value of [0.125, 0.5, 0.75, 4]) openai.observe(value);
  latency.labels({ provider: "vllm" }).observe(0.25);

  assert.equal(
    renderChecked(registry),
    [
      "# HELP switchyard_requests_total Requests handled.",
      "# TYPE switchyard_requests_total counter",
      'switchyard_requests_total{method="GET",code="200"} 3',
      'switchyard_requests_total{method="POST",code="502"} 1',
      "# HELP switchyard_in_flight_requests Requests in flight.",
      "# TYPE switchyard_in_flight_requests gauge",
      "switchyard_in_flight_requests 2",
      "# HELP switchyard_upstream_seconds Upstream latency.",
      "# TYPE switchyard_upstream_seconds histogram",
      'switchyard_upstream_seconds_bucket{provider="openai",le="0.25"} 1',
      'switchyard_upstream_seconds_bucket{provider="openai",le="0.5"} 2',
      'switchyard_upstream_seconds_bucket{provider="openai",le="1"} 3',
      'switchyard_upstream_seconds_bucket{provider="openai",le="+Inf"} 4',
      'switchyard_upstream_seconds_sum{provider="openai"} 5.375',
      'switchyard_upstream_seconds_count{provider="openai"} 4',
      'switchyard_upstream_seconds_bucket{provider="vllm",le="0.25"} 1',
      'switchyard_upstream_seconds_bucket{provider="vllm",le="0.5"} 1',
      'switchyard_upstream_seconds_bucket{provider="vllm",le="1"} 1',
      'switchyard_upstream_seconds_bucket{provider="vllm",le="+Inf"} 1',
      'switchyard_upstream_seconds_sum{provider="vllm"} 0.25',
      'switchyard_upstream_seconds_count{provider="vllm"} 1',
      "",
    ].join("\n"),
  );
  assert.equal(PROMETHEUS_CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
});

Deno.test("help text and label values are escaped", () => {
  const registry = new MetricsRegistry();
  const help = 'Path "C:\\temp"\nsecond line';
  const value = 'say "hi"\\n\nnext';
  registry.counter("escaped_total", help, ["path"]).labels({ path: value }).inc();
  const text = renderChecked(registry);
  assert.equal(
    text,
    [
      '# HELP escaped_total Path "C:\\\\temp"\\nsecond line',
      "# TYPE escaped_total counter",
      'escaped_total{path="say \\"hi\\"\\\\n\\nnext"} 1',
      "",
    ].join("\n"),
  );
  const family = parseExposition(text).get("escaped_total");
  assert.equal(family?.help, help);
  assert.deepEqual(family?.samples[0]?.labels, { path: value });
});

Deno.test("numbers are written as Prometheus writes them", () => {
  const registry = new MetricsRegistry();
  const gauge = registry.gauge("values", "Values.", ["case"]);
  const cases: [string, number, string][] = [
    ["zero", 0, "0"],
    ["negative_zero", -0, "0"],
    ["integer", 123456789, "123456789"],
    ["big_integer", 1e20, "100000000000000000000"],
    ["fraction", -0.5, "-0.5"],
    ["tiny", 1e-7, "1e-7"],
    ["huge", 1e300, "1e+300"],
    ["nan", NaN, "NaN"],
    ["inf", Infinity, "+Inf"],
    ["minus_inf", -Infinity, "-Inf"],
  ];
  for (const [name, value] of cases) gauge.labels({ case: name }).set(value);
  const lines = renderChecked(registry).split("\n").slice(2, -1);
  assert.deepEqual(lines, cases.map(([name, , text]) => `values{case="${name}"} ${text}`));
  const samples = parseExposition(registry.render()).get("values")?.samples ?? [];
  assert.deepEqual(
    samples.map((sample) => sample.value),
    cases.map(([, value]) => value === 0 ? 0 : value), // -0 is written, so read back, as 0
  );
});

Deno.test("a histogram counts a value on a bound in that bucket, and infinities at the ends", () => {
  const registry = new MetricsRegistry();
  const histogram = registry.histogram("edges", "Edges.", [], [1e-3, 1, 100]);
  const series = histogram.labels({});
  for (const value of [1e-3, 1, 100, -Infinity, Infinity, -5]) series.observe(value);
  assert.equal(
    renderChecked(registry),
    [
      "# HELP edges Edges.",
      "# TYPE edges histogram",
      'edges_bucket{le="0.001"} 3',
      'edges_bucket{le="1"} 4',
      'edges_bucket{le="100"} 5',
      'edges_bucket{le="+Inf"} 6',
      "edges_sum NaN",
      "edges_count 6",
      "",
    ].join("\n"),
  );
});

Deno.test("a histogram without bounds has only the +Inf bucket, a sum and a count", () => {
  const registry = new MetricsRegistry();
  const series = registry.histogram("bare", "Bare.", ["kind"], []).labels({ kind: "a" });
  series.observe(2);
  series.observe(0.5);
  assert.equal(
    renderChecked(registry),
    '# HELP bare Bare.\n# TYPE bare histogram\nbare_bucket{kind="a",le="+Inf"} 2\n' +
      'bare_sum{kind="a"} 2.5\nbare_count{kind="a"} 2\n',
  );
});

Deno.test("labels() returns the same handle for the same values", () => {
  const registry = new MetricsRegistry();
  const counter = registry.counter("same_total", "Same.", ["a", "b"]);
  const kept = counter.labels({ a: "1", b: "2" });
  assert.equal(counter.labels({ a: "1", b: "2" }), kept);
  assert.equal(counter.labels({ b: "2", a: "1" }), kept);
  assert.notEqual(counter.labels({ a: "2", b: "1" }), kept);
  assert.notEqual(counter.labels({ a: "1", b: "" }), kept);
  kept.inc();
  counter.labels({ a: "1", b: "2" }).inc();
  assert.match(renderChecked(registry), /^same_total\{a="1",b="2"\} 2$/m);

  const histogram = registry.histogram("same_seconds", "Same.", ["a"], [1]);
  assert.equal(histogram.labels({ a: "x" }), histogram.labels({ a: "x" }));
  const gauge = registry.gauge("same", "Same.", []);
  assert.equal(gauge.labels({}), gauge.labels({}));
});

Deno.test("labels() throws a TypeError on missing, unknown or non-string labels", () => {
  const registry = new MetricsRegistry();
  const counter = registry.counter("checked_total", "Checked.", ["method", "code"]);
  counter.labels({ method: "GET", code: "200" }).inc();
  assert.throws(
    // @ts-expect-error: a label is missing
    () => counter.labels({ method: "GET" }),
    {
      name: "TypeError",
      message: 'Metric "checked_total" takes labels "method", "code"; label "code" is missing',
    },
  );
  assert.throws(
    // @ts-expect-error: a label is not one of the metric's
    () => counter.labels({ method: "GET", code: "200", user: "x" }),
    { name: "TypeError", message: /label "user" is not one of them/ },
  );
  assert.throws(
    // @ts-expect-error: a value is not a string
    () => counter.labels({ method: "GET", code: 200 }),
    {
      name: "TypeError",
      message: 'Label "code" of metric "checked_total" must be a string, got 200',
    },
  );
  const gauge = registry.gauge("plain", "Plain.", []);
  assert.throws(
    // Record<never, string> is {}, so the type system lets this one through.
    () => gauge.labels({ method: "GET" }),
    {
      name: "TypeError",
      message: 'Metric "plain" takes no labels; label "method" is not one of them',
    },
  );
  const families = parseExposition(renderChecked(registry));
  assert.deepEqual(families.get("checked_total")?.samples, [
    { name: "checked_total", labels: { method: "GET", code: "200" }, value: 1 },
  ]);
  assert.deepEqual(families.get("plain")?.samples, []);
});

Deno.test("counters only go up, by finite amounts", () => {
  const registry = new MetricsRegistry();
  const series = registry.counter("up_total", "Up.", []).labels({});
  series.inc(0);
  series.inc(0.5);
  for (const by of [-1, -Infinity, Infinity, NaN]) {
    assert.throws(() => series.inc(by), {
      name: "RangeError",
      message: `Counter "up_total" can only go up by a finite amount, got ${by}`,
    });
  }
  assert.match(renderChecked(registry), /^up_total 0\.5$/m);
});

Deno.test("past the cap, new label sets are folded into the _other series", () => {
  const registry = new MetricsRegistry({ maxSeriesPerMetric: 3 });
  const counter = registry.counter("users_total", "Users.", ["user", "route"]);
  const first = counter.labels({ user: "u1", route: "/a" });
  counter.labels({ user: "u2", route: "/a" }).inc();
  const other = counter.labels({ user: "u3", route: "/b" });
  assert.equal(counter.labels({ user: "u4", route: "/a" }), other);
  assert.equal(counter.labels({ user: "u3", route: "/b" }), other);
  assert.equal(counter.labels({ user: OVERFLOW_LABEL_VALUE, route: OVERFLOW_LABEL_VALUE }), other);
  assert.equal(counter.labels({ user: "u1", route: "/a" }), first);
  first.inc();
  other.inc();
  counter.labels({ user: "u5", route: "/c" }).inc(2);
  assert.equal(
    renderChecked(registry),
    [
      "# HELP users_total Users.",
      "# TYPE users_total counter",
      'users_total{user="u1",route="/a"} 1',
      'users_total{user="u2",route="/a"} 1',
      'users_total{user="_other",route="_other"} 3',
      "",
    ].join("\n"),
  );
});

Deno.test("a label set that is all _other takes the kept slot and the cap still holds", () => {
  const registry = new MetricsRegistry({ maxSeriesPerMetric: 3 });
  const gauge = registry.gauge("slots", "Slots.", ["key"]);
  const other = gauge.labels({ key: "_other" });
  gauge.labels({ key: "a" }).set(1);
  gauge.labels({ key: "b" }).set(2);
  assert.equal(gauge.labels({ key: "c" }), other);
  other.set(9);
  assert.deepEqual(renderChecked(registry).split("\n").slice(2), [
    'slots{key="_other"} 9',
    'slots{key="a"} 1',
    'slots{key="b"} 2',
    "",
  ]);
});

Deno.test("the cap bounds the series whatever clients send", () => {
  const registry = new MetricsRegistry({ maxSeriesPerMetric: 50 });
  const histogram = registry.histogram("wild_seconds", "Wild.", ["client"], [1]);
  for (let i = 0; i < 10_000; i++) histogram.labels({ client: `client-${i}` }).observe(i % 2);
  const samples = parseExposition(renderChecked(registry)).get("wild_seconds")?.samples ?? [];
  const clients = new Set(samples.map((sample) => sample.labels.client));
  assert.equal(clients.size, 50);
  assert.ok(clients.has("_other"));
  const count = samples.find((sample) =>
    sample.name === "wild_seconds_count" && sample.labels.client === "_other"
  );
  assert.equal(count?.value, 10_000 - 49);
});

Deno.test("a cap of 1 keeps one series: the unlabelled one, or _other", () => {
  const registry = new MetricsRegistry({ maxSeriesPerMetric: 1 });
  const plain = registry.counter("plain_total", "Plain.", []);
  plain.labels({}).inc();
  plain.labels({}).inc();
  const labelled = registry.counter("labelled_total", "Labelled.", ["a"]);
  labelled.labels({ a: "x" }).inc();
  labelled.labels({ a: "y" }).inc();
  assert.deepEqual(renderChecked(registry).split("\n").filter((line) => !line.startsWith("#")), [
    "plain_total 2",
    'labelled_total{a="_other"} 2',
    "",
  ]);
});

Deno.test("maxSeriesPerMetric must be a positive integer", () => {
  for (const max of [0, -1, 1.5, NaN, Infinity]) {
    assert.throws(() => new MetricsRegistry({ maxSeriesPerMetric: max }), {
      name: "RangeError",
      message: `maxSeriesPerMetric must be a positive integer, got ${max}`,
    });
  }
});

Deno.test("metric and label names are checked when a metric is registered", () => {
  const registry = new MetricsRegistry();
  for (const name of ["", "1abc", "a-b", "a b", "é"]) {
    assert.throws(() => registry.counter(name, "Bad.", []), {
      name: "TypeError",
      message: `Metric name "${name}" is not valid: it must match ^[a-zA-Z_:][a-zA-Z0-9_:]*$`,
    });
  }
  for (const label of ["", "1a", "a:b", "a-b"]) {
    assert.throws(() => registry.gauge("bad_label", "Bad.", [label]), {
      name: "TypeError",
      message: `Label name "${label}" of "bad_label" is not valid: it must match ` +
        "^[a-zA-Z_][a-zA-Z0-9_]*$",
    });
  }
  assert.throws(() => registry.counter("reserved_total", "Bad.", ["__name"]), {
    name: "TypeError",
    message: 'Label name "__name" of "reserved_total" is reserved: it starts with "__"',
  });
  assert.throws(() => registry.histogram("le_seconds", "Bad.", ["le"], [1]), {
    name: "TypeError",
    message: 'Label name "le" of histogram "le_seconds" is reserved for its buckets',
  });
  assert.throws(() => registry.counter("twice_total", "Bad.", ["a", "a"]), {
    name: "TypeError",
    message: 'Label name "a" of "twice_total" is given twice',
  });
  registry.counter("ok:name_total", "Fine.", ["le", "_a"]);
  registry.gauge("_ok", "Fine.", ["A_1"]);
  assert.equal(registry.render().split("\n").filter((line) => line.startsWith("# TYPE")).length, 2);
});

Deno.test("a name can be registered once, histogram lines included", () => {
  const registry = new MetricsRegistry();
  registry.counter("taken", "Taken.", []);
  assert.throws(() => registry.gauge("taken", "Again.", []), {
    name: "TypeError",
    message: 'Metric "taken" is already registered',
  });
  registry.histogram("latency", "Latency.", [], [1]);
  assert.throws(() => registry.counter("latency_count", "Clash.", []), {
    name: "TypeError",
    message: 'Metric "latency_count" would write lines named "latency_count", which "latency" uses',
  });
  registry.gauge("size_sum", "Size.", []);
  assert.throws(() => registry.histogram("size", "Clash.", [], [1]), {
    name: "TypeError",
    message: 'Metric "size" would write lines named "size_sum", which "size_sum" uses',
  });
  registry.histogram("size_seconds", "Fine.", ["a"], []).labels({ a: "1" });
  renderChecked(registry);
});

Deno.test("bucket bounds must be finite and strictly ascending", () => {
  const registry = new MetricsRegistry();
  const cases: [number[], string][] = [
    [[1, NaN], "must be finite, got NaN"],
    [[1, Infinity], "must be finite, got Infinity"],
    [[-Infinity, 1], "must be finite, got -Infinity"],
    [[2, 1], "must be strictly ascending, got 1 after 2"],
    [[1, 1], "must be strictly ascending, got 1 after 1"],
  ];
  for (const [buckets, problem] of cases) {
    assert.throws(() => registry.histogram("buckets", "Bad.", [], buckets), {
      name: "RangeError",
      message: `Bucket bounds of "buckets" ${problem}`,
    });
  }
  const buckets = [0.1, 1];
  registry.histogram("buckets", "Fine.", [], buckets).labels({}).observe(0.5);
  buckets[0] = 5; // the registry keeps its own copy
  assert.match(registry.render(), /^buckets_bucket\{le="0.1"\} 0$/m);
});

Deno.test("a metric without series still prints HELP and TYPE; no metrics print nothing", () => {
  const registry = new MetricsRegistry();
  assert.equal(registry.render(), "");
  registry.counter("unused_total", "Never used.", ["a"]);
  registry.histogram("unused_seconds", "Never used.", [], [1]);
  assert.equal(
    renderChecked(registry),
    "# HELP unused_total Never used.\n# TYPE unused_total counter\n" +
      "# HELP unused_seconds Never used.\n# TYPE unused_seconds histogram\n",
  );
});

Deno.test("onCollect functions run before each render, in order", () => {
  const registry = new MetricsRegistry();
  const pools = registry.gauge("pool_connections", "Open connections per pool.", ["pool"]);
  const live = new Map([["a", 2], ["b", 5]]);
  const calls: string[] = [];
  registry.onCollect(() => {
    calls.push("first");
    pools.reset();
    for (const [pool, open] of live) pools.labels({ pool }).set(open);
  });
  registry.onCollect(() => calls.push("second"));
  assert.deepEqual(calls, []);
  assert.equal(
    renderChecked(registry).split("\n").slice(2).join("\n"),
    'pool_connections{pool="a"} 2\npool_connections{pool="b"} 5\n',
  );
  live.delete("a");
  live.set("c", 1);
  assert.equal(
    renderChecked(registry).split("\n").slice(2).join("\n"),
    'pool_connections{pool="b"} 5\npool_connections{pool="c"} 1\n',
  );
  assert.deepEqual(calls, ["first", "second", "first", "second"]);
});

Deno.test("an error in an onCollect function reaches the caller of render", () => {
  const registry = new MetricsRegistry();
  registry.onCollect(() => {
    throw new Error("Pool is gone");
  });
  assert.throws(() => registry.render(), { message: "Pool is gone" });
});

Deno.test("a gauge reset drops every series and detaches kept handles", () => {
  const registry = new MetricsRegistry({ maxSeriesPerMetric: 2 });
  const gauge = registry.gauge("queue_depth", "Queue depth.", ["queue"]);
  const kept = gauge.labels({ queue: "a" });
  kept.set(4);
  gauge.labels({ queue: "b" }).set(1); // folded: the cap is 2
  gauge.reset();
  kept.set(7);
  assert.equal(
    renderChecked(registry),
    "# HELP queue_depth Queue depth.\n# TYPE queue_depth gauge\n",
  );
  const fresh = gauge.labels({ queue: "a" });
  assert.notEqual(fresh, kept);
  gauge.labels({ queue: "c" }).inc(3); // "a" took the one ordinary slot again
  assert.deepEqual(renderChecked(registry).split("\n").slice(2), [
    'queue_depth{queue="a"} 0',
    'queue_depth{queue="_other"} 3',
    "",
  ]);
});

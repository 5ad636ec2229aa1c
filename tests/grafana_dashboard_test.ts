/**
 * The Grafana dashboard in `config/grafana/switchyard.json` against the metrics the gateway
 * exports: every metric it queries exists, every exported metric has a panel, and its label
 * matchers and groupings name labels those metrics have. A metric added, renamed or relabelled
 * in `src/metrics/gateway_metrics.ts` fails here until the dashboard follows.
 */
import assert from "node:assert/strict";
import { validateModel } from "../src/config/load.ts";
import { GatewayMetrics } from "../src/metrics/gateway_metrics.ts";
import { Registry } from "../src/registry/registry.ts";

const DATASOURCE = "${DS_PROMETHEUS}";
const VARIABLES = ["service", "model", "instance"] as const;
const HISTOGRAM_SUFFIXES = ["_bucket", "_sum", "_count"] as const;
/** Every label a Switchyard metric has, `le` of histogram buckets included. */
const KNOWN_LABELS = new Set([
  "service",
  "model",
  "status",
  "instance",
  "strategy",
  "scope",
  "result",
  "from",
  "to",
  "type",
  "fallback",
  "version",
  "le",
]);

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function object(value: unknown, what: string): Json {
  assert.ok(isObject(value), `${what} is not an object`);
  return value;
}

function array(value: unknown, what: string): unknown[] {
  assert.ok(Array.isArray(value), `${what} is not an array`);
  return value;
}

function string(value: unknown, what: string): string {
  assert.equal(typeof value, "string", `${what} is not a string`);
  return String(value);
}

function number(value: unknown, what: string): number {
  assert.equal(typeof value, "number", `${what} is not a number`);
  return Number(value);
}

// ------------------------------------------------------------------------------------------------
// The dashboard

const dashboard = object(
  JSON.parse(
    await Deno.readTextFile(new URL("../config/grafana/switchyard.json", import.meta.url)),
  ),
  "the dashboard",
);

interface Panel {
  readonly id: number;
  readonly title: string;
  readonly type: string;
  readonly json: Json;
  readonly gridPos: {
    readonly x: number;
    readonly y: number;
    readonly w: number;
    readonly h: number;
  };
}

/** Every panel, those inside collapsed rows included, rows themselves too. */
function panelsOf(list: unknown, where: string): Panel[] {
  return array(list, where).flatMap((value, index) => {
    const json = object(value, `${where}[${index}]`);
    const title = string(json.title, `the title of ${where}[${index}]`);
    const grid = object(json.gridPos, `the gridPos of "${title}"`);
    const panel: Panel = {
      id: number(json.id, `the id of "${title}"`),
      title,
      type: string(json.type, `the type of "${title}"`),
      json,
      gridPos: {
        x: number(grid.x, `gridPos.x of "${title}"`),
        y: number(grid.y, `gridPos.y of "${title}"`),
        w: number(grid.w, `gridPos.w of "${title}"`),
        h: number(grid.h, `gridPos.h of "${title}"`),
      },
    };
    return json.panels === undefined
      ? [panel]
      : [panel, ...panelsOf(json.panels, `the panels of row "${title}"`)];
  });
}

const panels = panelsOf(dashboard.panels, "panels");
const queryPanels = panels.filter((panel) => panel.type !== "row");

/** A PromQL query of the dashboard, and where it is. */
interface Query {
  readonly where: string;
  readonly expr: string;
  /** Whether it is a panel's: those filter by the template variables. */
  readonly panel: boolean;
}

const targetQueries: Query[] = queryPanels.flatMap((panel) =>
  array(panel.json.targets, `the targets of "${panel.title}"`).map((value, index) => {
    const target = object(value, `target ${index} of "${panel.title}"`);
    const where = `"${panel.title}" target ${string(target.refId, "a refId")}`;
    return { where, expr: string(target.expr, `the expr of ${where}`), panel: true };
  })
);

const variables = array(object(dashboard.templating, "templating").list, "templating.list")
  .map((value, index) => object(value, `templating.list[${index}]`));

const variableQueries: Query[] = variables.map((variable) => {
  const where = `variable "${string(variable.name, "a variable name")}"`;
  const query = isObject(variable.query) ? variable.query.query : variable.query;
  return { where, expr: string(query, `the query of ${where}`), panel: false };
});

const annotationQueries: Query[] = array(
  object(dashboard.annotations, "annotations").list,
  "annotations.list",
).map((value, index) => object(value, `annotations.list[${index}]`))
  .filter((annotation) => annotation.expr !== undefined)
  .map((annotation) => {
    const where = `annotation "${string(annotation.name, "an annotation name")}"`;
    return { where, expr: string(annotation.expr, `the expr of ${where}`), panel: false };
  });

const queries = [...targetQueries, ...variableQueries, ...annotationQueries];

// ------------------------------------------------------------------------------------------------
// The metrics the gateway exports, each with the labels its rendered series have

const model = validateModel({
  "circuit-breaker": {},
  services: {
    chat: {
      "max-concurrency": 2,
      instances: [{ name: "m", "base-url": "http://127.0.0.1:9" }],
    },
  },
});
assert.ok(model.ok, "the test's model config is valid");
const registry = new Registry(model.model);
const metrics = new GatewayMetrics({ version: "0.0.0-test" });
metrics.collectFrom({
  snapshot: () => registry.snapshot,
  configVersion: () => 1,
  waitingForTurn: () => 0,
});
// One series in every metric recorded as requests go, so that its labels show in the output; the
// live gauges get theirs from the instance, its breaker and its model's queue.
const service = "chat";
const instance = "m";
metrics.requests.labels({ service, model: "m", status: "200" }).inc();
metrics.requestDuration.labels({ service, model: "m", status: "200" }).observe(0.5);
metrics.requestSize.labels({ service, model: "m" }).observe(100);
metrics.responseSize.labels({ service, model: "m" }).observe(100);
metrics.retries.labels({ service, model: "m" }).inc();
metrics.fallbacks.labels({ service, model: "m", fallback: "cache" }).inc();
metrics.backendCalls.labels({ service, instance, status: "200" }).inc();
metrics.backendCallDuration.labels({ service, instance }).observe(0.5);
metrics.rateLimitEvents.labels({ service, scope: "global", result: "allowed" }).inc();
metrics.breakerTransitions.labels({ instance, from: "closed", to: "open" }).inc();
metrics.selections.labels({ service, strategy: "random", instance }).inc();
metrics.timeToFirstToken.labels({ service, model: "m" }).observe(0.5);
metrics.interTokenLatency.labels({ service, model: "m" }).observe(0.01);
metrics.tokens.labels({ service, model: "m", type: "input" }).inc(3);
metrics.queueWait.labels({ service, model: "m" }).observe(0.1);

const rendered = metrics.render();
/** Metric family name → its type, from the `# TYPE` lines. */
const families = new Map<string, string>();
for (const match of rendered.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
  families.set(match[1]!, match[2]!);
}

/** The family of a sample or query name: a histogram's `_bucket`, `_sum`, `_count` dropped. */
function familyOf(name: string): string {
  for (const suffix of HISTOGRAM_SUFFIXES) {
    const base = name.slice(0, -suffix.length);
    if (name.endsWith(suffix) && families.get(base) === "histogram") return base;
  }
  return name;
}

/** Family name → the label names its series have in the output (`le` for histograms). */
const familyLabels = new Map<string, Set<string>>();
for (const match of rendered.matchAll(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? \S+$/gm)) {
  const family = familyOf(match[1]!);
  const labels = familyLabels.get(family) ?? new Set<string>();
  for (const label of (match[2] ?? "").matchAll(/([a-zA-Z_]\w*)="(?:[^"\\]|\\.)*"/g)) {
    labels.add(label[1]!);
  }
  familyLabels.set(family, labels);
}

// ------------------------------------------------------------------------------------------------
// Reading PromQL, as far as the checks need it

/** A query with its string literals emptied, so that their contents read as nothing. */
function withoutStrings(expr: string): string {
  return expr.replaceAll(/"(?:[^"\\]|\\.)*"/g, '""');
}

/** One use of a Switchyard metric in a query, with the labels its `{...}` matchers name. */
interface MetricUse {
  readonly name: string;
  readonly family: string;
  readonly matchers: readonly string[];
  /** The matchers as written, values included: `service=~"$service"`. */
  readonly selector: string;
}

function metricUses(expr: string): MetricUse[] {
  return [
    ...expr.matchAll(
      /\b((?:switchyard|process)_[a-z_]+)\s*(?:\{((?:[^}"]|"(?:[^"\\]|\\.)*")*)\})?/g,
    ),
  ]
    .map((match) => {
      const selector = match[2] ?? "";
      const matchers = [...withoutStrings(selector).matchAll(/([a-zA-Z_]\w*)\s*(?:=~|!~|!=|=)/g)]
        .map((label) => label[1]!);
      return { name: match[1]!, family: familyOf(match[1]!), matchers, selector };
    });
}

/** The labels of `by (...)`, `without (...)`, `on (...)`, `ignoring (...)`, `group_x (...)`. */
function groupingLabels(expr: string): string[] {
  return [
    ...withoutStrings(expr).matchAll(
      /\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g,
    ),
  ].flatMap((match) => match[1]!.split(",").map((label) => label.trim()).filter(Boolean));
}

/** The labels a family has: from its series in the output, else any Switchyard label. */
function labelsOf(family: string): ReadonlySet<string> {
  return familyLabels.get(family) ?? KNOWN_LABELS;
}

// ------------------------------------------------------------------------------------------------

Deno.test("the dashboard is importable, with a Prometheus input and the template variables", () => {
  assert.equal(dashboard.uid, "switchyard");
  assert.equal(dashboard.title, "Switchyard");
  assert.equal(dashboard.schemaVersion, 39);
  assert.deepEqual(dashboard.tags, ["switchyard", "llm", "gateway"]);
  assert.equal(dashboard.refresh, "10s");
  assert.deepEqual(dashboard.time, { from: "now-1h", to: "now" });
  const inputs = array(dashboard.__inputs, "__inputs").map((input) => object(input, "an input"));
  assert.ok(
    inputs.some((input) =>
      input.name === "DS_PROMETHEUS" && input.type === "datasource" &&
      input.pluginId === "prometheus"
    ),
    "__inputs has the DS_PROMETHEUS Prometheus datasource",
  );
  assert.deepEqual(variables.map((variable) => variable.name), [...VARIABLES]);
  for (const variable of variables) {
    assert.equal(variable.type, "query", `variable "${variable.name}" is not a query`);
    assert.equal(variable.multi, true, `variable "${variable.name}" is not multi-select`);
    assert.equal(variable.includeAll, true, `variable "${variable.name}" does not include All`);
  }
  for (const query of variableQueries) {
    assert.match(
      query.expr,
      /^label_values\(.+,\s*\w+\s*\)$/,
      `${query.where} is not a label_values query`,
    );
  }
});

Deno.test("every metric the dashboard queries is one the gateway exports", () => {
  assert.ok(families.size > 0, "the gateway renders metric families");
  for (const query of queries) {
    const uses = metricUses(query.expr);
    assert.ok(
      uses.length > 0 || !query.panel,
      `${query.where} queries no Switchyard metric: ${query.expr}`,
    );
    for (const use of uses) {
      assert.ok(
        families.has(use.family),
        `${query.where} queries ${use.name}, which the gateway does not export`,
      );
    }
  }
});

Deno.test("every metric the gateway exports has a panel", () => {
  const used = new Set(
    targetQueries.flatMap((query) => metricUses(query.expr).map((use) => use.family)),
  );
  const unused = [...families.keys()].filter((family) => !used.has(family));
  assert.deepEqual(unused, [], `metrics without a panel: ${unused.join(", ")}`);
});

Deno.test("panels have unique ids and do not overlap", () => {
  const ids = panels.map((panel) => panel.id);
  const twice = ids.filter((id, index) => ids.indexOf(id) !== index);
  assert.deepEqual(twice, [], `panel ids used more than once: ${twice.join(", ")}`);
  for (const { title, gridPos } of panels) {
    assert.ok(gridPos.w > 0 && gridPos.h > 0, `"${title}" has no size`);
    assert.ok(
      gridPos.x >= 0 && gridPos.x + gridPos.w <= 24,
      `"${title}" does not fit the 24 columns`,
    );
  }
  panels.forEach((a, index) => {
    for (const b of panels.slice(index + 1)) {
      const overlap = a.gridPos.x < b.gridPos.x + b.gridPos.w &&
        b.gridPos.x < a.gridPos.x + a.gridPos.w &&
        a.gridPos.y < b.gridPos.y + b.gridPos.h &&
        b.gridPos.y < a.gridPos.y + a.gridPos.h;
      assert.ok(!overlap, `"${a.title}" and "${b.title}" overlap`);
    }
  });
});

Deno.test("every panel, target and variable queries the Prometheus input", () => {
  const isInput = (datasource: unknown) =>
    datasource === DATASOURCE || (isObject(datasource) && datasource.uid === DATASOURCE);
  for (const panel of queryPanels) {
    assert.ok(isInput(panel.json.datasource), `"${panel.title}" does not use ${DATASOURCE}`);
    const targets = array(panel.json.targets, `the targets of "${panel.title}"`);
    assert.ok(targets.length > 0, `"${panel.title}" has targets`);
    targets.forEach((target, index) => {
      const { datasource } = object(target, `target ${index} of "${panel.title}"`);
      assert.ok(
        isInput(datasource),
        `target ${index} of "${panel.title}" does not use ${DATASOURCE}`,
      );
    });
  }
  for (const variable of variables) {
    assert.ok(
      isInput(variable.datasource),
      `variable "${variable.name}" does not use ${DATASOURCE}`,
    );
  }
});

Deno.test("rates are taken over $__rate_interval", () => {
  for (const query of queries) {
    for (const match of query.expr.matchAll(/\b(rate|irate|increase)\(.*?\[([^\]]*)\]/g)) {
      const [, fn, range] = match;
      // increase over the whole range is for breakdowns of the time range shown.
      const allowed = fn === "increase" ? ["$__rate_interval", "$__range"] : ["$__rate_interval"];
      assert.ok(
        allowed.includes(range!),
        `${query.where}: ${fn}(…[${range}]) is not over $__rate_interval: ${query.expr}`,
      );
    }
  }
});

Deno.test("label matchers and groupings name labels of the metrics queried", () => {
  for (const query of queries) {
    const uses = metricUses(query.expr);
    for (const use of uses) {
      for (const label of use.matchers) {
        assert.ok(KNOWN_LABELS.has(label), `${query.where}: ${use.name} has no label "${label}"`);
        assert.ok(
          labelsOf(use.family).has(label),
          `${query.where}: ${use.name} has no label "${label}"`,
        );
      }
    }
    // A grouping is checked against every metric of its query: one metric per query here.
    const grouped = groupingLabels(query.expr);
    const labelValues = /^label_values\(.*,\s*(\w+)\s*\)$/.exec(query.expr);
    if (labelValues) grouped.push(labelValues[1]!);
    for (const label of grouped) {
      assert.ok(KNOWN_LABELS.has(label), `${query.where}: no Switchyard metric has "${label}"`);
      for (const use of uses) {
        assert.ok(
          labelsOf(use.family).has(label),
          `${query.where}: ${use.name} has no label "${label}" to group by or list`,
        );
      }
    }
  }
});

Deno.test("panels filter by the template variables of the labels their metrics have", () => {
  for (const query of targetQueries) {
    for (const use of metricUses(query.expr)) {
      for (const variable of VARIABLES) {
        if (!familyLabels.get(use.family)?.has(variable)) continue;
        assert.ok(
          use.selector.includes(`${variable}=~"$${variable}"`),
          `${query.where}: ${use.name} is not filtered by ${variable}=~"$${variable}"`,
        );
      }
    }
  }
});

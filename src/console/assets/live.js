// The live view's charts: reads the last hour from `data-source` (GET /admin/metrics/history)
// every `data-every` seconds while the tab is shown, and draws each `figure[data-chart]` as an
// SVG line per `[data-series]` (a dotted path into the answer), with its latest value and unit
// in `[data-now]` and its lowest, highest and latest values in the caption.

const SVG = "http://www.w3.org/2000/svg";
/** The plot's coordinates: one unit a bucket across, 100 high. */
const HEIGHT = 100;

export function mount(root, api) {
  const select = root.querySelector('select[name="service"]');
  const updated = root.querySelector("[data-updated]");
  let timer;
  let stopped = false;

  async function load() {
    clearTimeout(timer);
    if (stopped) return;
    if (!document.hidden) {
      const service = select?.value;
      const url = root.dataset.source + (service ? `?service=${encodeURIComponent(service)}` : "");
      try {
        const response = await api.call("GET", url);
        if (stopped) return;
        if (response.ok) {
          draw(await response.json());
          updated.textContent = `The last hour in buckets of ten seconds; updated ${
            new Date().toLocaleTimeString()
          }.`;
        } else {
          updated.textContent = `Not updated: ${await api.errorMessage(response)}`;
        }
      } catch (error) {
        updated.textContent = `Not updated: ${error.message}`;
      }
    }
    // A load started while another was under way (a new service picked) leaves one timer.
    clearTimeout(timer);
    if (!stopped) timer = setTimeout(load, Number(root.dataset.every) * 1000);
  }

  function draw(history) {
    for (const figure of root.querySelectorAll("figure[data-chart]")) {
      const unit = figure.dataset.unit;
      const series = [...figure.querySelectorAll("[data-series]")].map((item) => ({
        label: item.textContent.trim(),
        values: valueAt(history, item.dataset.series) ?? [],
      }));
      plot(figure.querySelector("[data-plot]"), series, unit);
      const latest = series.map((line) => ({ ...line, last: lastOf(line.values) }));
      figure.querySelector("[data-now]").textContent = latest.length === 1
        ? withUnit(latest[0].last, unit)
        : latest.map((line) => `${line.label} ${number(line.last)}`).join(" · ") + ` ${unit}`;
      figure.querySelector("[data-caption]").textContent = caption(latest, unit);
    }
  }

  select?.addEventListener("change", load);
  load();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

/** The value at a dotted `path` of `object`. */
function valueAt(object, path) {
  return path.split(".").reduce((at, part) => at?.[part], object);
}

function lastOf(values) {
  for (let i = values.length - 1; i >= 0; i--) if (values[i] !== null) return values[i];
  return null;
}

/** Draws `series` into `plot` as lines on one scale from 0 to a round number above them all. */
function plot(plotElement, series, unit) {
  const buckets = Math.max(2, ...series.map((line) => line.values.length));
  const highest = Math.max(0, ...series.flatMap((line) => line.values.filter((v) => v !== null)));
  const top = roundUp(highest);
  let svg = plotElement.querySelector("svg");
  if (!svg) {
    svg = element("svg", {
      viewBox: `0 0 ${buckets - 1} ${HEIGHT}`,
      preserveAspectRatio: "none",
      focusable: "false",
    });
    for (const at of [0, 0.5, 1]) {
      svg.append(element("line", {
        class: "grid",
        x1: 0,
        x2: buckets - 1,
        y1: HEIGHT * at,
        y2: HEIGHT * at,
        "vector-effect": "non-scaling-stroke",
      }));
    }
    series.forEach((_, index) =>
      svg.append(element("path", {
        class: `line series-${index + 1}`,
        "vector-effect": "non-scaling-stroke",
      }))
    );
    const scale = document.createElement("span");
    scale.className = "scale small muted";
    plotElement.append(svg, scale);
  }
  const paths = svg.querySelectorAll("path");
  series.forEach((line, index) => paths[index]?.setAttribute("d", pathOf(line.values, top)));
  plotElement.querySelector(".scale").textContent = withUnit(top, unit);
}

/** An SVG path through the values, broken where a bucket has none. */
function pathOf(values, top) {
  let d = "";
  let drawing = false;
  values.forEach((value, x) => {
    if (value === null) {
      drawing = false;
      return;
    }
    const y = HEIGHT - (value / top) * HEIGHT;
    // A lone value is drawn as a short mark so that it shows.
    const next = values[x + 1];
    const alone = !drawing && (next === null || next === undefined);
    d += `${drawing ? "L" : "M"}${x} ${y.toFixed(2)}`;
    if (alone) d += `L${x + 0.6} ${y.toFixed(2)}`;
    drawing = true;
  });
  return d;
}

/** 1, 2 or 5 times a power of ten, at or above `value`; 1 for nothing. */
function roundUp(value) {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (value <= step * power) return step * power;
  return 10 * power;
}

function caption(lines, unit) {
  const parts = lines.map((line) => {
    const known = line.values.filter((value) => value !== null);
    if (known.length === 0) return `${line.label}: no data in the last hour`;
    return `${line.label}: lowest ${number(Math.min(...known))}, highest ${
      number(Math.max(...known))
    }, latest ${number(line.last)}`;
  });
  return `Last hour, in ${unit}. ${parts.join("; ")}.`;
}

function number(value) {
  if (value === null || value === undefined) return "–";
  if (value >= 100) return String(Math.round(value));
  if (value >= 10) return value.toFixed(1).replace(/\.0$/, "");
  return String(Math.round(value * 100) / 100);
}

function withUnit(value, unit) {
  return value === null ? "–" : `${number(value)} ${unit}`;
}

function element(name, attributes) {
  const made = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) made.setAttribute(key, String(value));
  return made;
}

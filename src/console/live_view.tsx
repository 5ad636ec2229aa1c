/**
 * The console's live view: the last hour of requests, errors, time to first token, inter-token
 * latency, output tokens and queue length as charts, drawn and kept up to date by `live.js` from
 * `GET /admin/metrics/history`. Each chart is a figure whose caption says its lowest, highest
 * and latest values, for readers who cannot see the lines.
 * @module
 */
import type { Registry } from "../registry/registry.ts";
import { SERVICE_TYPES } from "../services.ts";
import type { ConsoleView } from "./view.ts";
import script from "./assets/live.js" with { type: "text" };

/** The live view's own script, `/console/assets/live.js`. */
export const LIVE_ASSETS = {
  "live.js": { body: script, type: "text/javascript; charset=utf-8" },
} as const;

/** A chart: what it shows, its unit, and the series of the history it draws. */
interface Chart {
  readonly id: string;
  readonly title: string;
  readonly unit: string;
  /** Names of the history's series (a dotted path), with their legend. */
  readonly series: readonly { readonly path: string; readonly label: string }[];
}

const CHARTS: readonly Chart[] = [
  {
    id: "requests",
    title: "Requests",
    unit: "req/s",
    series: [{ path: "requests_per_second", label: "requests" }],
  },
  {
    id: "errors",
    title: "Errors",
    unit: "req/s",
    series: [
      { path: "errors_per_second", label: "5xx or cut" },
      { path: "rate_limited_per_second", label: "429" },
    ],
  },
  {
    id: "ttft",
    title: "Time to first token",
    unit: "ms",
    series: [
      { path: "time_to_first_token_ms.p50", label: "p50" },
      { path: "time_to_first_token_ms.p95", label: "p95" },
    ],
  },
  {
    id: "itl",
    title: "Inter-token latency",
    unit: "ms",
    series: [
      { path: "inter_token_latency_ms.p50", label: "p50" },
      { path: "inter_token_latency_ms.p95", label: "p95" },
    ],
  },
  {
    id: "tokens",
    title: "Output tokens",
    unit: "tok/s",
    series: [{ path: "output_tokens_per_second", label: "tokens" }],
  },
  {
    id: "queue",
    title: "Queue length",
    unit: "waiting",
    series: [
      { path: "queue_length.mean", label: "mean" },
      { path: "queue_length.max", label: "most" },
    ],
  },
];

/** The live charts; the services to filter by are those with instances. */
export function liveView(registry: Registry): ConsoleView {
  return {
    id: "live",
    title: "Live",
    render() {
      const services = SERVICE_TYPES.filter((type) =>
        registry.snapshot.services[type].upstreams.length > 0
      );
      return (
        <section aria-labelledby="live-title">
          <h1 id="live-title">Live</h1>
          <div
            class="live"
            data-module="live"
            data-source="/admin/metrics/history"
            data-every="5"
          >
            <div class="live-controls">
              <label>
                Service
                <select name="service">
                  <option value="">All services</option>
                  {services.map((type) => <option key={type} value={type}>{type}</option>)}
                </select>
              </label>
              <p class="muted small" data-updated aria-live="off">
                The last hour in buckets of ten seconds.
              </p>
            </div>
            <div class="charts">
              {CHARTS.map((chart) => (
                <figure
                  key={chart.id}
                  class="chart"
                  data-chart={chart.id}
                  data-unit={chart.unit}
                  aria-labelledby={`chart-${chart.id}-title`}
                >
                  <div class="chart-head">
                    <h2 id={`chart-${chart.id}-title`}>{chart.title}</h2>
                    <strong class="chart-now" data-now>–</strong>
                  </div>
                  <ul class="legend">
                    {chart.series.map((series, index) => (
                      <li key={series.path} class={`series-${index + 1}`} data-series={series.path}>
                        {series.label}
                      </li>
                    ))}
                  </ul>
                  <div class="plot" data-plot aria-hidden="true"></div>
                  <div class="axis muted small" aria-hidden="true">
                    <span>60 min ago</span>
                    <span>now</span>
                  </div>
                  <figcaption class="muted small" data-caption>No data yet.</figcaption>
                </figure>
              ))}
            </div>
          </div>
        </section>
      );
    },
  };
}

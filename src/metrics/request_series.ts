/**
 * The series a request records into, bundled by what labels them: a model of a service, and an
 * instance of a service. A bundle looks each series up on its first use and keeps it, so a
 * request's recording is field reads, not a walk of each metric's label tree; series still
 * appear in `/metrics` only once something was recorded into them.
 * @module
 */
import type { ServiceType } from "../services.ts";
import type { Counter, CounterSeries, Histogram, HistogramSeries } from "./registry.ts";

import type { CallOutcome } from "../observe/call_outcome.ts";

export type { CallOutcome } from "../observe/call_outcome.ts";

/** The metric families a {@linkcode ModelSeries} labels; the gateway's metrics have them. */
export interface ModelFamilies {
  readonly requests: Counter<"service" | "model" | "status">;
  readonly requestDuration: Histogram<"service" | "model" | "status">;
  readonly requestSize: Histogram<"service" | "model">;
  readonly responseSize: Histogram<"service" | "model">;
  readonly retries: Counter<"service" | "model">;
  readonly timeToFirstToken: Histogram<"service" | "model">;
  readonly interTokenLatency: Histogram<"service" | "model">;
  readonly tokens: Counter<"service" | "model" | "type">;
  readonly cost: Counter<"service" | "model">;
  readonly queueWait: Histogram<"service" | "model">;
}

/** The metric families an {@linkcode InstanceSeries} labels. */
export interface InstanceFamilies {
  readonly backendCalls: Counter<"service" | "instance" | "status">;
  readonly backendCallDuration: Histogram<"service" | "instance">;
  readonly selections: Counter<"service" | "instance" | "strategy">;
}

/** The series of the requests of one model that ended with one status. */
export interface StatusSeries {
  readonly requests: CounterSeries;
  readonly duration: HistogramSeries;
}

/** The series labelled by one model of one service. */
export class ModelSeries {
  /** The model label. */
  readonly model: string;
  readonly #metrics: ModelFamilies;
  readonly #labels: { readonly service: ServiceType; readonly model: string };
  readonly #byStatus = new Map<number, StatusSeries>();
  #requestSize: HistogramSeries | undefined;
  #responseSize: HistogramSeries | undefined;
  #retries: CounterSeries | undefined;
  #timeToFirstToken: HistogramSeries | undefined;
  #interTokenLatency: HistogramSeries | undefined;
  #inputTokens: CounterSeries | undefined;
  #outputTokens: CounterSeries | undefined;
  #queueWait: HistogramSeries | undefined;
  #cost: CounterSeries | undefined;

  constructor(metrics: ModelFamilies, service: ServiceType, model: string) {
    this.model = model;
    this.#metrics = metrics;
    this.#labels = { service, model };
  }

  /** The request count and duration of the requests that ended with `status`. */
  status(status: number): StatusSeries {
    let series = this.#byStatus.get(status);
    if (series === undefined) {
      const labels = { ...this.#labels, status: String(status) };
      series = {
        requests: this.#metrics.requests.labels(labels),
        duration: this.#metrics.requestDuration.labels(labels),
      };
      this.#byStatus.set(status, series);
    }
    return series;
  }

  get requestSize(): HistogramSeries {
    return this.#requestSize ??= this.#metrics.requestSize.labels(this.#labels);
  }

  get responseSize(): HistogramSeries {
    return this.#responseSize ??= this.#metrics.responseSize.labels(this.#labels);
  }

  get retries(): CounterSeries {
    return this.#retries ??= this.#metrics.retries.labels(this.#labels);
  }

  get timeToFirstToken(): HistogramSeries {
    return this.#timeToFirstToken ??= this.#metrics.timeToFirstToken.labels(this.#labels);
  }

  get interTokenLatency(): HistogramSeries {
    return this.#interTokenLatency ??= this.#metrics.interTokenLatency.labels(this.#labels);
  }

  get inputTokens(): CounterSeries {
    return this.#inputTokens ??= this.#metrics.tokens.labels({ ...this.#labels, type: "input" });
  }

  get outputTokens(): CounterSeries {
    return this.#outputTokens ??= this.#metrics.tokens.labels({ ...this.#labels, type: "output" });
  }

  get queueWait(): HistogramSeries {
    return this.#queueWait ??= this.#metrics.queueWait.labels(this.#labels);
  }

  /** USD the requests cost. */
  get cost(): CounterSeries {
    return this.#cost ??= this.#metrics.cost.labels(this.#labels);
  }
}

/** The series labelled by one instance of one service. */
export class InstanceSeries {
  readonly #metrics: InstanceFamilies;
  readonly #labels: { readonly service: ServiceType; readonly instance: string };
  readonly #calls = new Map<CallOutcome, CounterSeries>();
  readonly #selections = new Map<string, CounterSeries>();
  #callDuration: HistogramSeries | undefined;

  constructor(metrics: InstanceFamilies, service: ServiceType, instance: string) {
    this.#metrics = metrics;
    this.#labels = { service, instance };
  }

  /** Backend calls that ended in `outcome`. */
  calls(outcome: CallOutcome): CounterSeries {
    let series = this.#calls.get(outcome);
    if (series === undefined) {
      series = this.#metrics.backendCalls.labels({ ...this.#labels, status: String(outcome) });
      this.#calls.set(outcome, series);
    }
    return series;
  }

  /** Times the load balancer's `strategy` picked the instance. */
  selections(strategy: string): CounterSeries {
    let series = this.#selections.get(strategy);
    if (series === undefined) {
      series = this.#metrics.selections.labels({ ...this.#labels, strategy });
      this.#selections.set(strategy, series);
    }
    return series;
  }

  get callDuration(): HistogramSeries {
    return this.#callDuration ??= this.#metrics.backendCallDuration.labels(this.#labels);
  }
}

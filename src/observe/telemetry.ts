/**
 * Where finished requests go: the per-service counters the status page reads, the latest
 * failures, and one log line each. Metrics are recorded by the records themselves.
 * @module
 */
import { FieldName, type LineFields } from "../logging/line_fields.ts";
import type { Logger, LogLevel } from "../logging/logger.ts";
import type { GatewayMetrics } from "../metrics/gateway_metrics.ts";
import { SERVICE_TYPES, type ServiceType } from "../services.ts";
import type { BodyLogging } from "./body_capture.ts";
import { RecentErrors } from "./recent_errors.ts";
import { RecentRequests } from "./recent_requests.ts";
import { type RecordSink, type RequestArrival, RequestRecord } from "./request_record.ts";
import { LinkedList } from "../lib/linked_list.ts";
import { RequestStatistics } from "../stats/request_statistics.ts";
import { MetricsHistory } from "../stats/metrics_history.ts";

/** Counters of one service's client requests since start. */
export interface ServiceTraffic {
  requests: number;
  /** Answered with a status of 500 or more. */
  errors: number;
  /** ms, sum and count of full request durations. */
  latencySum: number;
  latencyCount: number;
}

/** Options for {@linkcode Telemetry}. */
export interface TelemetryOptions {
  /** Where metrics go; none when `metrics.enabled` is off. */
  readonly metrics?: GatewayMetrics | undefined;
  /** Where request lines go; none when `log.requests` is off. */
  readonly logger?: Logger | undefined;
  /** What of the bodies request lines hold; none unless `log.bodies` is on. */
  readonly bodies?: BodyLogging | undefined;
  /** Told of every request's use once it is known: its answer is whole, or it ended. */
  readonly onSettled?: ((record: RequestRecord) => void) | undefined;
  /** Clock, in ms. @default Date.now */
  readonly now?: () => number;
}

/** The gateway's bookkeeping of client requests. */
export class Telemetry implements RecordSink {
  readonly metrics: GatewayMetrics | undefined;
  readonly bodies: BodyLogging | undefined;
  /** Every service's counters. */
  readonly traffic: ReadonlyMap<ServiceType, ServiceTraffic>;
  readonly recentErrors = new RecentErrors();
  /** The latest requests by id, for the console's playground. */
  readonly recentRequests = new RecentRequests();
  /** What the statistics endpoints count, since start or their last reset. */
  readonly statistics: RequestStatistics;
  /** The last hour of requests, for the console's live charts. */
  readonly history: MetricsHistory;
  /** Client requests in flight. */
  active = 0;
  /** Their records, for those to be cut at shutdown. */
  readonly #inFlight = new LinkedList<RequestRecord>();
  readonly #logger: Logger | undefined;
  readonly #onSettled: ((record: RequestRecord) => void) | undefined;
  readonly #now: () => number;
  /** Metrics, request lines or the listener of ended requests read token counts. */
  readonly #reportsUsage: boolean;
  #priced = false;

  constructor(options: TelemetryOptions = {}) {
    this.metrics = options.metrics;
    this.#logger = options.logger;
    this.#onSettled = options.onSettled;
    this.#reportsUsage = options.metrics !== undefined || options.logger !== undefined ||
      options.onSettled !== undefined;
    // Bodies are kept only for request lines to hold.
    this.bodies = options.logger ? options.bodies : undefined;
    this.#now = options.now ?? Date.now;
    this.traffic = new Map(SERVICE_TYPES.map((type) => [type, newTraffic()]));
    this.statistics = new RequestStatistics(this.#now());
    this.history = new MetricsHistory(this.#now);
  }

  /** Whether a request's token usage is read: for metrics, request lines, or its cost. */
  get readsUsage(): boolean {
    return this.#reportsUsage || this.#priced;
  }

  /** Whether some instance has a price (each request's cost needs its token usage). */
  pricing(priced: boolean): void {
    this.#priced = priced;
  }

  /** Starts the record of a request that just arrived. */
  start(arrival: RequestArrival): RequestRecord {
    this.active++;
    const record = new RequestRecord(arrival, this.#now(), this.metrics, this);
    record.inFlight = this.#inFlight.add(record);
    return record;
  }

  /**
   * Ends the record of every request still in flight as cut by the shutdown, each with its
   * line; returns how many there were.
   */
  cutInFlight(): number {
    const cut = [...this.#inFlight];
    for (const record of cut) record.cutByShutdown();
    return cut.length;
  }

  finished(record: RequestRecord): void {
    this.active--;
    record.inFlight?.[Symbol.dispose]();
    const traffic = this.traffic.get(record.service) ?? newTraffic();
    traffic.requests++;
    traffic.latencySum += record.duration;
    traffic.latencyCount++;
    const failed = record.failed;
    if (failed) traffic.errors++;
    this.statistics.finished(record);
    this.history.finished(record);
    if (failed || record.status === 429) {
      this.recentErrors.add({
        at: new Date(record.arrivedAt).toISOString(),
        requestId: record.requestId,
        service: record.service,
        model: (record.requestedModel ?? "").slice(0, 100),
        status: record.status,
        reason: record.reason ?? "",
        message: (record.reasonMessage ?? "").slice(0, 300),
        outcome: record.outcome,
        instance: record.instance?.id ?? null,
      });
    }
    this.recentRequests.add(record);
    const logger = this.#logger;
    if (logger) {
      const level = failed ? "error" : levelOf(record.status);
      if (logger.enabled(level)) logRequest(logger, level, record);
    }
  }

  settled(record: RequestRecord): void {
    this.#onSettled?.(record);
  }
}

function newTraffic(): ServiceTraffic {
  return { requests: 0, errors: 0, latencySum: 0, latencyCount: 0 };
}

/** Failures stand out: a 5xx is an error, a refusal a warning. */
function levelOf(status: number): LogLevel {
  return status >= 500 ? "error" : status >= 400 ? "warn" : "info";
}

function logRequest(logger: Logger, level: LogLevel, record: RequestRecord): void {
  const ended = record.outcome === "complete" ? "" : ` ${record.outcome}`;
  const message = `${record.method} ${record.path} ${record.status}${ended}`;
  logger.logWith(level, message, record.arrivedAt, requestFields, record);
}

/** The names of a request line's fields. */
const FIELDS = {
  requestId: new FieldName("request_id"),
  service: new FieldName("service"),
  model: new FieldName("model"),
  instance: new FieldName("instance"),
  adapter: new FieldName("adapter"),
  status: new FieldName("status"),
  outcome: new FieldName("outcome"),
  duration: new FieldName("duration_ms"),
  ttfb: new FieldName("ttfb_ms"),
  ttft: new FieldName("ttft_ms"),
  bytesIn: new FieldName("bytes_in"),
  bytesOut: new FieldName("bytes_out"),
  retries: new FieldName("retries"),
  fallback: new FieldName("fallback"),
  tokensIn: new FieldName("tokens_in"),
  tokensOut: new FieldName("tokens_out"),
  cost: new FieldName("cost_usd"),
  reason: new FieldName("reason"),
  error: new FieldName("error"),
  client: new FieldName("client"),
  team: new FieldName("team"),
  clientIp: new FieldName("client_ip"),
  traceId: new FieldName("trace_id"),
  requestBody: new FieldName("request_body"),
  responseBody: new FieldName("response_body"),
};

/** The fields of a request's line. */
function requestFields(line: LineFields, record: RequestRecord): void {
  line.text(FIELDS.requestId, record.requestId);
  line.label(FIELDS.service, record.service);
  line.label(FIELDS.model, record.requestedModel?.slice(0, 200));
  line.label(FIELDS.instance, record.instance?.id);
  line.label(FIELDS.adapter, record.instance?.adapter);
  line.number(FIELDS.status, record.status);
  line.label(FIELDS.outcome, record.outcome);
  line.number(FIELDS.duration, round(record.duration));
  if (record.firstByte !== undefined) line.number(FIELDS.ttfb, round(record.firstByte));
  if (record.firstChunk !== undefined) line.number(FIELDS.ttft, round(record.firstChunk));
  line.number(FIELDS.bytesIn, record.bytesIn);
  line.number(FIELDS.bytesOut, record.bytesOut);
  line.number(FIELDS.retries, Math.max(0, record.attempts - 1));
  line.label(FIELDS.fallback, record.fallback);
  line.number(FIELDS.tokensIn, record.usage?.input);
  line.number(FIELDS.tokensOut, record.usage?.output);
  line.number(FIELDS.cost, record.cost);
  line.label(FIELDS.reason, record.reason);
  line.text(FIELDS.error, record.reasonMessage);
  line.label(FIELDS.client, record.client);
  line.label(FIELDS.team, record.team);
  line.text(FIELDS.clientIp, record.clientIp);
  line.text(FIELDS.traceId, record.traceId);
  line.text(FIELDS.requestBody, record.requestBody?.text());
  line.text(FIELDS.responseBody, record.responseBody?.text());
}

/** ms to a tenth. */
function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

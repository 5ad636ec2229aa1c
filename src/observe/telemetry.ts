/**
 * Where finished requests go: the per-service counters the status page reads, the latest
 * failures, and one log line each. Metrics are recorded by the records themselves.
 * @module
 */
import type { Logger, LogLevel } from "../logging/logger.ts";
import type { GatewayMetrics } from "../metrics/gateway_metrics.ts";
import { SERVICE_TYPES, type ServiceType } from "../services.ts";
import { RecentErrors } from "./recent_errors.ts";
import { type RecordSink, type RequestArrival, RequestRecord } from "./request_record.ts";

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
  /** Clock, in ms. @default Date.now */
  readonly now?: () => number;
}

/** The gateway's bookkeeping of client requests. */
export class Telemetry implements RecordSink {
  readonly metrics: GatewayMetrics | undefined;
  readonly readsUsage: boolean;
  /** Every service's counters. */
  readonly traffic: ReadonlyMap<ServiceType, ServiceTraffic>;
  readonly recentErrors = new RecentErrors();
  /** Client requests in flight. */
  active = 0;
  readonly #logger: Logger | undefined;
  readonly #now: () => number;

  constructor(options: TelemetryOptions = {}) {
    this.metrics = options.metrics;
    this.#logger = options.logger;
    this.readsUsage = options.metrics !== undefined || options.logger !== undefined;
    this.#now = options.now ?? Date.now;
    this.traffic = new Map(SERVICE_TYPES.map((type) => [type, newTraffic()]));
  }

  /** Starts the record of a request that just arrived. */
  start(arrival: RequestArrival): RequestRecord {
    this.active++;
    return new RequestRecord(arrival, this.#now(), this.metrics, this);
  }

  finished(record: RequestRecord): void {
    this.active--;
    const traffic = this.traffic.get(record.service) ?? newTraffic();
    traffic.requests++;
    traffic.latencySum += record.duration;
    traffic.latencyCount++;
    if (record.status >= 500) traffic.errors++;
    if (record.status >= 500 || record.status === 429) {
      this.recentErrors.add({
        at: new Date(record.arrivedAt).toISOString(),
        requestId: record.requestId,
        service: record.service,
        model: (record.requestedModel ?? "").slice(0, 100),
        status: record.status,
        reason: record.reason ?? "",
        instance: record.instance?.id ?? null,
      });
    }
    const logger = this.#logger;
    if (logger) {
      const level = levelOf(record.status);
      if (logger.enabled(level)) logRequest(logger, level, record);
    }
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
  logger.log(level, `${record.method} ${record.path} ${record.status}`, {
    request_id: record.requestId,
    service: record.service,
    model: record.requestedModel?.slice(0, 200),
    instance: record.instance?.id,
    status: record.status,
    duration_ms: round(record.duration),
    ttfb_ms: record.firstByte === undefined ? undefined : round(record.firstByte),
    ttft_ms: record.firstChunk === undefined ? undefined : round(record.firstChunk),
    bytes_in: record.bytesIn,
    bytes_out: record.bytesOut,
    retries: Math.max(0, record.attempts - 1),
    fallback: record.fallback,
    tokens_in: record.usage?.input,
    tokens_out: record.usage?.output,
    reason: record.reason,
    error: record.reasonMessage,
    client: record.client,
    client_ip: record.clientIp,
    trace_id: record.traceId,
  }, record.arrivedAt);
}

/** ms to a tenth. */
function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

/**
 * Everything the gateway learns about one client request on its way through, kept to be
 * written out once when it ends: as metrics, as one log line, and in the status page's
 * counters. Recording is a few field writes, into series bundled per model and per instance.
 * @module
 */
import type { LimitResult } from "../limiter/admission.ts";
import type { GatewayMetrics } from "../metrics/gateway_metrics.ts";
import { NO_MODEL, UNKNOWN_MODEL } from "../metrics/gateway_metrics.ts";
import type { CallOutcome, ModelSeries } from "../metrics/request_series.ts";
import type { LimitScope } from "../limiter/types.ts";
import type { Upstream } from "../registry/snapshot.ts";
import type { ServiceType } from "../services.ts";
import type { BodyEnd, ProxyObserver } from "./proxy_observer.ts";
import { BodyCapture, type BodyLogging } from "./body_capture.ts";
import { StreamTap, type TappedBody } from "./stream_tap.ts";
import type { TokenUsage } from "./usage.ts";
import { findUsage } from "./usage.ts";
import { requestCost } from "../balancer/price.ts";
import type { TokenReservation } from "../limiter/token_limits.ts";

/** What ends a record: the gateway's bookkeeping of requests that finished. */
export interface RecordSink {
  /** Whether anything reads a request's token `usage` (metrics, or request lines). */
  readonly readsUsage: boolean;
  /** What of the bodies request lines hold, when `log.bodies` is on. */
  readonly bodies: BodyLogging | undefined;
  /** The request's use is known: its answer is whole, or it ended. Once per record. */
  settled(record: RequestRecord): void;
  finished(record: RequestRecord): void;
}

/** A request as it arrived. */
export interface RequestArrival {
  readonly service: ServiceType;
  readonly requestId: string;
  readonly method: string;
  readonly path: string;
  /** The client's address, for the log only. */
  readonly clientIp: string;
  /**
   * When it arrived, by `performance.now()`, if that was before it was seen (it waited for its
   * turn); otherwise it arrived as its record starts.
   */
  readonly arrived?: number | undefined;
}

/** One client request, as observed. */
export class RequestRecord implements RequestArrival, ProxyObserver {
  /** Backends get the client's trace context as it is. */
  readonly traced = false;
  readonly service: ServiceType;
  readonly requestId: string;
  readonly method: string;
  readonly path: string;
  /** The client's address, for the log only. */
  readonly clientIp: string;
  /** Clock time of arrival, in ms. */
  readonly arrivedAt: number;
  /** The authenticated client's key id, when the gateway checks credentials. */
  client: string | undefined;
  /** The team of that key, if it has one. */
  team: string | undefined;
  /** The model as the client named it. */
  requestedModel: string | undefined;
  /** The model label: a pool's name, {@link UNKNOWN_MODEL} or {@link NO_MODEL}. */
  model = NO_MODEL;
  /** The instance tried last. */
  instance: Upstream | undefined;
  attempts = 0;
  /** What answered instead of the model: `cache` or a fallback model. */
  fallback: string | undefined;
  status = 0;
  /**
   * How the answer to the client ended; a 499 (the client left first) is `client_closed`, one
   * still going when the shutdown's grace period ended `shutdown`.
   */
  outcome: BodyEnd = "complete";
  /** The gateway's error code, when it refused or failed the request itself. */
  reason: string | undefined;
  /** The message of that error. */
  reasonMessage: string | undefined;
  bytesIn = 0;
  bytesOut: number | undefined;
  /** ms from arrival until the response's headers were ready. */
  firstByte: number | undefined;
  /** ms from arrival until the first chunk of a streamed body. */
  firstChunk: number | undefined;
  /** ms from arrival until the last byte went out. */
  duration = 0;
  usage: TokenUsage | undefined;
  /** ms, the mean gap between the events of a streamed answer of three events or more. */
  interTokenLatency: number | undefined;
  /** Tokens of a streamed SSE answer: its `usage` when read, else its events but `[DONE]`. */
  streamedTokens: number | undefined;
  /**
   * USD the answer cost at the prices of the instance that gave it: set when it has a price
   * and answered with a 2xx.
   */
  cost: number | undefined;
  /** The request's trace, when OpenTelemetry is on. */
  traceId: string | undefined;
  /** The first bytes of the request's body and of the answer, when `log.bodies` is on. */
  requestBody: BodyCapture | undefined;
  responseBody: BodyCapture | undefined;

  readonly #metrics: GatewayMetrics | undefined;
  /** The series of {@link model}, once looked up. */
  #modelSeries: ModelSeries | undefined;
  readonly #sink: RecordSink;
  readonly #started: number;
  #tap: StreamTap | undefined;
  /** The record's place among the requests in flight, while it is there. */
  inFlight: Disposable | undefined;
  #tapEnded = false;
  /** Tokens reserved in token limits, settled with {@link usage} when the request ends. */
  readonly #tokens: TokenReservation[] = [];
  #finishWhenTapEnds = false;
  #settled = false;
  #done = false;

  constructor(
    arrival: RequestArrival,
    arrivedAt: number,
    metrics: GatewayMetrics | undefined,
    sink: RecordSink,
  ) {
    this.service = arrival.service;
    this.requestId = arrival.requestId;
    this.method = arrival.method;
    this.path = arrival.path;
    this.clientIp = arrival.clientIp;
    this.#metrics = metrics;
    this.#sink = sink;
    const now = performance.now();
    this.#started = arrival.arrived ?? now;
    this.arrivedAt = arrivedAt - (now - this.#started);
  }

  /** Whether it failed: answered 500 or more, or its answer was cut. */
  get failed(): boolean {
    return this.status >= 500 || this.outcome === "upstream_broken" ||
      this.outcome === "timeout" || this.outcome === "shutdown";
  }

  /** Tokens generated: as the backend reported them, else a streamed answer's events. */
  get outputTokens(): number {
    return this.usage?.output ?? this.streamedTokens ?? 0;
  }

  /** ms since the request arrived. */
  elapsed(): number {
    return performance.now() - this.#started;
  }

  /** The body was read: its size and the model it names (and itself, for `log.bodies`). */
  bodyRead(model: string, body: Uint8Array): void {
    this.requestedModel = model;
    this.bytesIn = body.byteLength;
    const bodies = this.#sink.bodies;
    if (bodies) (this.requestBody = new BodyCapture(bodies)).add(body);
  }

  /** The model resolved to a pool, or to none. */
  resolved(pool: string | undefined): void {
    this.model = pool ?? UNKNOWN_MODEL;
  }

  /** A rate limit decided. */
  rateLimit(scope: LimitScope, result: LimitResult): void {
    this.#metrics?.rateLimitEvents.labels({ service: this.service, scope, result }).inc();
  }

  /** The load balancer picked `upstream` for the next attempt. */
  picked(upstream: Upstream, strategy: string): void {
    this.instance = upstream;
    this.attempts++;
    const metrics = this.#metrics;
    if (!metrics) return;
    metrics.instance(this.service, upstream.id).selections(strategy).inc();
    if (this.attempts > 1) this.#series(metrics).retries.inc();
  }

  /** Nothing of its own watches single attempts. */
  attemptStarted(): undefined {
    return undefined;
  }

  /** A call to `upstream` ended in `outcome` after `ms` (to its response headers). */
  backendCall(upstream: Upstream, outcome: CallOutcome, ms: number): void {
    const metrics = this.#metrics;
    if (!metrics) return;
    const series = metrics.instance(this.service, upstream.id);
    series.calls(outcome).inc();
    if (typeof outcome === "number") series.callDuration.observe(ms / 1000);
  }

  /** The request waited `ms` in its model's queue. */
  queued(ms: number): void {
    if (this.#metrics) this.#series(this.#metrics).queueWait.observe(ms / 1000);
  }

  /** A fallback answered: `cache`, or the model that did. */
  fellBack(fallback: string): void {
    this.fallback = fallback;
    this.#metrics?.fallbacks.labels({ service: this.service, model: this.model, fallback }).inc();
  }

  /** Tokens were reserved in token limits: the answer's `usage` settles them at the end. */
  reservedTokens(reservation: TokenReservation): void {
    this.#tokens.push(reservation);
  }

  /** Whether the answer's `usage` is read: for the sink, or to settle reserved tokens. */
  get #readsUsage(): boolean {
    return this.#sink.readsUsage || this.#tokens.length > 0;
  }

  /** The client authenticated as the key `client`, of `team`. */
  identified(client: string, team: string | undefined): void {
    this.client = client;
    this.team = team;
  }

  /**
   * Settles the request's use now, before its answer (of `status`) ends, when the answer is
   * whole: true then; false while a relayed body is still going (its relay asks again at its
   * end).
   */
  answerWhole(status: number): boolean {
    this.status = status;
    if (this.#tap) {
      if (!this.#tapEnded) return false;
      this.#absorb(this.#tap);
    }
    this.#settle();
    return true;
  }

  /** The whole answer, read into memory: its size and the `usage` it reports. */
  bodyAnswered(body: Uint8Array): void {
    this.bytesOut = body.byteLength;
    const bodies = this.#sink.bodies;
    if (bodies) (this.responseBody = new BodyCapture(bodies)).add(body);
    if (body.byteLength > 0 && this.#readsUsage) {
      this.usage = findUsage(body);
    }
  }

  /** A tap for a body relayed chunk by chunk. */
  tap(kind: TappedBody): StreamTap {
    const gaps = kind === "sse" && this.#metrics
      ? this.#series(this.#metrics).interTokenLatency
      : undefined;
    const bodies = this.#sink.bodies;
    return this.#tap = new StreamTap({
      elapsed: () => this.elapsed(),
      gaps,
      readsUsage: this.#readsUsage,
      capture: bodies ? this.responseBody = new BodyCapture(bodies) : undefined,
    }, kind);
  }

  /** The client's response is ready: its status, and its size when it says. */
  responded(response: Response, error: { code: string; message: string } | undefined): void {
    this.firstByte = this.elapsed();
    this.status = response.status;
    if (error) {
      // The backend sent no answer in time: the request ended as a timeout.
      if (error.code === "upstream_timeout") this.outcome = "timeout";
      // The gateway's shutdown ended the request before its answer began.
      if (error.code === "gateway_stopping") this.outcome = "shutdown";
      this.reason = error.code;
      this.reasonMessage = error.message;
    }
    if (this.bytesOut === undefined && this.#tap === undefined) {
      const length = response.headers.get("content-length");
      if (length !== null) this.bytesOut = Number(length);
      else if (response.body === null) this.bytesOut = 0;
    }
  }

  /** The tapped body ended: finished, failed or cancelled. */
  tapEnded(end: BodyEnd): void {
    this.#tapEnded = true;
    this.outcome = end;
    if (end === "shutdown") {
      this.reason ??= "gateway_stopping";
      this.reasonMessage ??= "The gateway stopped the answer at the end of its grace period";
    } else if (end === "upstream_broken" || end === "timeout") {
      this.reason ??= end === "timeout" ? "upstream_timeout" : "upstream_broken_stream";
      this.reasonMessage ??= end === "timeout"
        ? "The backend went quiet past the idle timeout; the answer was cut"
        : "The backend broke off its answer midway";
    }
    if (this.#finishWhenTapEnds) this.finish();
  }

  /**
   * Finishes once `delivered` settles (the server says the response went out), else once a
   * tapped body ends, else now.
   */
  finishAfter(delivered: Promise<void> | undefined): void {
    if (delivered) {
      const finish = () => this.finish();
      delivered.then(finish, finish);
    } else if (this.#tap && !this.#tapEnded) this.#finishWhenTapEnds = true;
    else this.finish();
  }

  /** The gateway is stopping with the request still in flight: ends its record as cut. */
  cutByShutdown(): void {
    this.outcome = "shutdown";
    this.reason ??= "shutdown";
    this.reasonMessage ??= "The gateway stopped before the answer was whole";
    this.finish();
  }

  /** The last byte went out, or the client left: writes the record out, once. */
  finish(): void {
    if (this.#done) return;
    this.#done = true;
    this.duration = this.elapsed();
    if (this.status === 499) this.outcome = "client_closed";
    if (this.#tap) this.#absorb(this.#tap);
    // Without a count, an answer given keeps its estimate; a request never answered gives it back.
    const answered = this.status >= 200 && this.status < 300;
    for (const reservation of this.#tokens) reservation.settle(this.usage, answered);
    this.#settle();
    if (this.#metrics) this.#record(this.#series(this.#metrics));
    this.#sink.finished(this);
  }

  /** Counts the request's cost and tells the sink its use: once, however it ended. */
  #settle(): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#charge();
    this.#sink.settled(this);
  }

  /** Counts what the answer cost, on the record and on the instance that gave it. */
  #charge(): void {
    const instance = this.instance;
    const price = instance?.price;
    if (price === undefined || this.status < 200 || this.status >= 300) return;
    if (this.fallback === "cache") return;
    const cost = requestCost(price, this.usage);
    this.cost = cost;
    instance!.state.spend += cost;
  }

  #record(series: ModelSeries): void {
    const status = series.status(this.status);
    status.requests.inc();
    status.duration.observe(this.duration / 1000);
    if (this.model !== NO_MODEL) series.requestSize.observe(this.bytesIn);
    if (this.bytesOut !== undefined) series.responseSize.observe(this.bytesOut);
    if (this.firstChunk !== undefined) series.timeToFirstToken.observe(this.firstChunk / 1000);
    const usage = this.usage;
    if (usage) {
      if (usage.input > 0) series.inputTokens.inc(usage.input);
      if (usage.output > 0) series.outputTokens.inc(usage.output);
    }
    if (this.cost !== undefined) series.cost.inc(this.cost);
  }

  /** The series of the model label as it is now. */
  #series(metrics: GatewayMetrics): ModelSeries {
    const series = this.#modelSeries;
    if (series?.model === this.model) return series;
    return this.#modelSeries = metrics.model(this.service, this.model);
  }

  #absorb(tap: StreamTap): void {
    const result = tap.result();
    this.bytesOut = result.bytes;
    this.firstChunk = result.firstChunk;
    this.usage ??= result.usage;
    this.interTokenLatency = result.interTokenLatency;
    if (tap.sse) this.streamedTokens = Math.max(0, tap.tokens());
  }
}

/**
 * A request's way through the gateway: read the body, find the model's pool, let its strategy
 * pick an instance, send, and on a failure before the first byte try another instance. Once a
 * response is chosen its body is relayed as it arrives and the instance's counters settle once.
 * @module
 */
import type { ServerConfig } from "../config/schema.ts";
import { GatewayError } from "../errors.ts";
import { isAvailable, secondsUntilBack } from "../health/availability.ts";
import { recordFailure as recordOutlierFailure, recordSuccess } from "../health/outlier.ts";
import type { Registry } from "../registry/registry.ts";
import type { ModelPool, Upstream } from "../registry/snapshot.ts";
import { SERVICE_ENDPOINTS, type ServiceType } from "../services.ts";
import { readClientBody } from "./body.ts";
import { type Exchange, ollamaExchange, passThrough } from "./exchange.ts";
import { attemptHeaders, baseUpstreamHeaders, responseHeaders } from "./headers.ts";
import { relayBody } from "./relay.ts";
import { armResponseDeadline, UpstreamTimeout } from "./response_deadline.ts";
import { causeChain, knownCause } from "./transport_error.ts";

/** Tells whether a TCP connection to a host opens within `timeout` ms. */
export type ReachabilityCheck = (
  target: { readonly hostname: string; readonly port: number },
  timeout: number,
) => Promise<boolean>;

/** What the proxy needs from the rest of the gateway. */
export interface ProxyDeps {
  readonly registry: Registry;
  readonly server: ServerConfig;
  /** Used when a backend is slower to answer than the connect timeout. */
  readonly reachable: ReachabilityCheck;
  /** Clock for ejections, in ms. @default Date.now */
  readonly now?: () => number;
}

/** One client request to forward. */
export interface ProxyRequest {
  readonly service: ServiceType;
  readonly request: Request;
  readonly clientIp: string;
  readonly requestId: string;
  /**
   * Settles once the response has been delivered to the client, when the server can say so.
   * It lets a non-streamed body be piped natively instead of chunk by chunk through the relay.
   */
  readonly delivered?: Promise<void> | undefined;
}

/** Why an attempt failed before the first byte reached the client. */
type Failure =
  | {
    readonly kind: "response";
    readonly response: Response;
    /** A pattern-matched instance without the model: moving on is not a retry. */
    readonly notServed: boolean;
  }
  | { readonly kind: "transport"; readonly error: GatewayError }
  | { readonly kind: "client-gone" };

/** The gateway's own abort reasons, told apart from errors thrown by `fetch`. */
const CLIENT_GONE = new Error("client disconnected");
const IDLE = new Error("backend went idle mid-response");

/** Forwards a client request to an instance of its model and returns the response to send. */
export async function forward(request: ProxyRequest, deps: ProxyDeps): Promise<Response> {
  const endpoint = SERVICE_ENDPOINTS[request.service];
  const body = await readClientBody(
    request.request,
    endpoint.body,
    deps.server["max-body-size"],
  );
  const service = deps.registry.snapshot.services[request.service];
  const pool = service.resolve(body.model);
  if (!pool) {
    throw new GatewayError(
      404,
      "model_not_found",
      `The model "${body.model}" does not exist or is not served at ${endpoint.path}`,
      { param: "model", type: "invalid_request_error" },
    );
  }
  const hashHeader = service.loadBalance.hashHeader;
  const context = {
    model: body.model,
    clientIp: request.clientIp,
    hashKey: hashHeader ? request.request.headers.get(hashHeader) ?? undefined : undefined,
  };
  const base = baseUpstreamHeaders(request.request.headers, {
    requestId: request.requestId,
    clientIp: request.clientIp,
    contentType: body.contentType,
  });

  const now = (deps.now ?? Date.now)();
  const plain = passThrough(body);
  // Made once per request and native API, only when an instance needs it; it may refuse.
  let translated: Map<string, Exchange> | undefined;
  const exchangeFor = (upstream: Upstream): Exchange => {
    if (upstream.native === undefined) return plain;
    translated ??= new Map();
    let exchange = translated.get(upstream.native);
    if (!exchange) {
      translated.set(upstream.native, exchange = ollamaExchange(upstream.native, body, now));
    }
    return exchange;
  };
  const tried = new Set<Upstream>();
  const untried = (upstream: Upstream) => !tried.has(upstream) && isAvailable(upstream, now);
  let retriesLeft = deps.server.retries;
  let upstream = pool.strategy.pick(context, untried);
  if (!upstream) {
    throw new GatewayError(
      503,
      "no_healthy_upstream",
      `Every instance of model "${body.model}" is out of service (down or ejected)`,
      { headers: { "retry-after": String(secondsUntilBack(pool.upstreams, now)) } },
    );
  }
  let failures = 0;
  // The latest answer a backend gave; it wins over a later instance that gave none.
  let answered: Response | undefined;
  for (;;) {
    tried.add(upstream);
    const exchange = exchangeFor(upstream);
    const headers = attemptHeaders(
      base,
      request.request.headers,
      upstream,
      exchange === plain ? undefined : exchange.contentType,
    );
    const outcome = await attempt(upstream, { request, exchange, headers, pool, deps });
    if (outcome instanceof Response) {
      await discard(answered);
      return outcome;
    }
    if (outcome.kind === "client-gone") {
      await discard(answered);
      return clientGone();
    }
    const notServed = outcome.kind === "response" && outcome.notServed;
    if (!notServed) failures++;
    if (outcome.kind === "response") {
      await discard(answered);
      answered = outcome.response;
    }
    const next = notServed || retriesLeft-- > 0 ? pool.strategy.pick(context, untried) : undefined;
    if (!next) {
      if (answered) return answered;
      return giveUp(outcome, { model: body.model, failures });
    }
    upstream = next;
  }
}

interface AttemptInput {
  readonly request: ProxyRequest;
  readonly exchange: Exchange;
  readonly headers: Headers;
  readonly pool: ModelPool;
  readonly deps: ProxyDeps;
}

/** Sends one attempt; a `Response` is final, a `Failure` may be retried elsewhere. */
async function attempt(upstream: Upstream, input: AttemptInput): Promise<Response | Failure> {
  const { request, exchange, headers, pool, deps } = input;
  const { connect, "first-byte": firstByte, idle } = deps.server.timeouts;
  const state = upstream.state;
  state.active++;
  state.requests++;

  const controller = new AbortController();
  const clientSignal = request.request.signal;
  const onClientGone = () => controller.abort(CLIENT_GONE);
  clientSignal.addEventListener("abort", onClientGone, { once: true });
  let settled = false;
  const settle = () => {
    if (settled) return;
    settled = true;
    state.active--;
    clientSignal.removeEventListener("abort", onClientGone);
  };

  const answered = armResponseDeadline(controller, {
    connect,
    firstByte,
    probe: (timeout) => deps.reachable(upstream, timeout),
  });

  let response: Response;
  try {
    if (clientSignal.aborted) throw CLIENT_GONE;
    response = await fetch(upstream.url, {
      method: "POST",
      headers,
      body: exchange.body,
      signal: controller.signal,
      redirect: "manual",
    });
  } catch (error) {
    settle();
    if (controller.signal.reason === CLIENT_GONE || error === CLIENT_GONE) {
      return { kind: "client-gone" };
    }
    const failure = transportFailure(controller.signal.reason ?? error);
    recordFailure(upstream, {
      reason: String(failure.error.cause ?? failure.error.message),
      unreachable: failure.unreachable,
    }, deps);
    return failure;
  } finally {
    answered();
  }
  try {
    response = await exchange.answer(response);
  } catch (error) {
    settle();
    await response.body?.cancel().catch(() => {});
    if (controller.signal.reason === CLIENT_GONE) return { kind: "client-gone" };
    const failure = translationFailure(error);
    recordFailure(upstream, { reason: failure.error.message, unreachable: false }, deps);
    return failure;
  }

  const relay = {
    settle,
    controller,
    idle,
    streamed: exchange.streamed,
    delivered: request.delivered,
  };
  if (response.status >= 500) {
    recordFailure(upstream, { reason: `answered ${response.status}`, unreachable: false }, deps);
  } else {
    recordSuccess(state);
  }
  if (response.status >= 500 || (pool.pattern && response.status === 404)) {
    return {
      kind: "response",
      // Through the relay, so that discarding it for another instance settles this one now.
      response: relayed(response, { ...relay, delivered: undefined }),
      notServed: response.status === 404,
    };
  }
  return relayed(response, relay);
}

/** How to hand a backend's response to the client. */
interface RelayContext {
  readonly settle: () => void;
  readonly controller: AbortController;
  readonly idle: number;
  /** The client asked for a stream. */
  readonly streamed: boolean;
  readonly delivered: Promise<void> | undefined;
}

/**
 * The client-facing response: the backend's status and headers, and its body. A stream (SSE,
 * NDJSON, audio, or anything the client asked to stream) goes through the relay, which watches
 * the gap between chunks, unless the idle timeout is off; any other body is piped natively by
 * the runtime, and the instance settles when the server reports it delivered.
 */
function relayed(response: Response, options: RelayContext): Response {
  const headers = responseHeaders(response.headers);
  const init = { status: response.status, statusText: response.statusText, headers };
  if (response.body === null) {
    options.settle();
    return new Response(null, init);
  }
  const watched = options.idle > 0 &&
    (options.streamed || isStream(headers.get("content-type")));
  if (options.delivered && !watched) {
    options.delivered.then(options.settle, options.settle);
    return new Response(response.body, init);
  }
  const body = relayBody(response.body, {
    idleTimeout: options.idle,
    onIdle: () => options.controller.abort(IDLE),
    onCancel: () => options.controller.abort(CLIENT_GONE),
    onEnd: options.settle,
  });
  return new Response(body, init);
}

/** Content types whose bodies arrive over time, chunk by chunk. */
function isStream(contentType: string | null): boolean {
  if (contentType === null) return false;
  return contentType.startsWith("text/event-stream") ||
    contentType.startsWith("application/x-ndjson") || contentType.startsWith("audio/");
}

/** The backend's answer could not be translated for the client. */
function translationFailure(error: unknown): TransportFailure {
  return {
    kind: "transport",
    error: error instanceof GatewayError
      ? error
      : new GatewayError(502, "bad_backend_answer", "The backend's answer could not be read", {
        cause: error,
      }),
    unreachable: false,
  };
}

/** A failure to get an answer; `unreachable` when no connection could be made at all. */
type TransportFailure = Failure & { kind: "transport"; unreachable: boolean };

function transportFailure(reason: unknown): TransportFailure {
  if (reason instanceof UpstreamTimeout) {
    return {
      kind: "transport",
      error: new GatewayError(504, "upstream_timeout", `The backend ${reason.message}`),
      unreachable: reason.phase === "connect",
    };
  }
  const detail = causeChain(reason);
  const known = knownCause(detail);
  return {
    kind: "transport",
    error: new GatewayError(
      502,
      "upstream_unreachable",
      `The backend could not be reached${known ? ` (${known})` : ""}`,
      { cause: detail },
    ),
    unreachable: true,
  };
}

/** Counts a failed attempt, which may eject the instance. */
function recordFailure(
  upstream: Upstream,
  failure: { readonly reason: string; readonly unreachable: boolean },
  deps: ProxyDeps,
): void {
  const now = (deps.now ?? Date.now)();
  upstream.state.failures++;
  upstream.state.lastError = { message: failure.reason, at: new Date(now).toISOString() };
  recordOutlierFailure(upstream.state, failure, {
    settings: upstream.outlier,
    health: upstream.backend.health,
    now,
  });
}

/** After the last attempt: a backend's own error response is passed on unchanged. */
/** Throws the gateway's error for the last failure, when no backend answered at all. */
function giveUp(failure: Failure, context: { model: string; failures: number }): never {
  if (failure.kind !== "transport") throw new TypeError("Only transport failures end here");
  const tries = context.failures === 1 ? "1 attempt" : `${context.failures} attempts`;
  throw new GatewayError(
    failure.error.status,
    failure.error.code,
    `Model "${context.model}" failed after ${tries}: ${failure.error.message}`,
  );
}

/** Drops a backend answer that will not be sent, settling its instance. */
async function discard(response: Response | undefined): Promise<void> {
  await response?.body?.cancel().catch(() => {});
}

/** Nobody will read it; nginx's 499 names the case in logs. */
function clientGone(): Response {
  return new Response(null, { status: 499 });
}

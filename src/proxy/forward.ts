/**
 * A request's way through the gateway: meet the service's rate limits, read the body, find the
 * model's pool, serve it from an instance (with retries and queueing), and when every instance
 * fails, answer from the fallbacks. Successful answers carry the client's remaining budget.
 * @module
 */
import type { ServerConfig } from "../config/schema.ts";
import { type ClientIdentity, modelRefusal } from "../auth/authenticator.ts";
import { GatewayError } from "../errors.ts";
import { admit, type Metered } from "../limiter/admission.ts";
import { rateLimitHeaders } from "../limiter/headers.ts";
import type { Registry } from "../registry/registry.ts";
import { retryAfterSeconds } from "../retry/retry_after.ts";
import { SERVICE_ENDPOINTS, type ServiceType } from "../services.ts";
import { readClientBody } from "./body.ts";
import type { RequestRecord } from "../observe/request_record.ts";
import { limitedClient } from "./client_identity.ts";
import { cacheOnTheWay, fallBack, requestCacheKey } from "./fallback.ts";
import { baseUpstreamHeaders } from "./headers.ts";
import { tryModel } from "./model_attempts.ts";
import { pause } from "../lib/pause.ts";
import { annotateRequest } from "../tracing/spans.ts";
import type { Transport } from "../transport/transport.ts";

/** What the proxy needs from the rest of the gateway. */
export interface ProxyDeps {
  readonly registry: Registry;
  readonly server: ServerConfig;
  /** How requests reach instances. */
  readonly transport: Transport;
  /** Clock for limits, breakers and ejections, in ms. @default Date.now */
  readonly now?: () => number;
  /** Randomness for retry backoff jitter. @default Math.random */
  readonly random?: () => number;
  /**
   * OpenTelemetry is on (`OTEL_DENO=true`): the request's span is annotated, each attempt gets
   * a span, and the runtime sets the upstream trace context. @default false
   */
  readonly tracing?: boolean;
}

/** One client request to forward. */
export interface ProxyRequest {
  readonly service: ServiceType;
  readonly request: Request;
  /** The client's address: the peer's, or one a trusted proxy named. */
  readonly clientIp: string;
  /** The `X-Forwarded-For` to send upstream. */
  readonly forwardedFor: string;
  readonly requestId: string;
  /** The client, when the gateway checks credentials. */
  readonly identity?: ClientIdentity | undefined;
  /**
   * Settles once the response has been delivered to the client, when the server can say so.
   * It lets a non-streamed body be handed to the server as it is instead of through the relay.
   */
  readonly delivered?: Promise<void> | undefined;
  /** What is observed of the request, for metrics and the log. */
  readonly record: RequestRecord;
}

/** Forwards a client request to an instance of its model and returns the response to send. */
export async function forward(request: ProxyRequest, deps: ProxyDeps): Promise<Response> {
  const clock = deps.now ?? Date.now;
  const service = deps.registry.snapshot.services[request.service];
  const client = limitedClient(request.clientIp, request.request.headers);
  const identity = request.identity;
  const limits = identity ? identity.limitsWith(service.limits) : service.limits;
  const record = request.record;
  const admission = admit(limits, client, clock(), record);
  if (!admission.allowed) {
    throw new GatewayError(429, "rate_limit_exceeded", refusalMessage(admission.refusal), {
      type: "requests",
      headers: rateLimitHeaders(admission.refusal),
    });
  }

  const endpoint = SERVICE_ENDPOINTS[request.service];
  const body = await readClientBody(
    request.request,
    endpoint.body,
    deps.server["max-body-size"],
  );
  record.bodyRead(body.model, body.bytes.byteLength);
  if (identity && !identity.allows(body.model)) throw modelRefusal(identity, body.model);
  const pool = service.resolve(body.model);
  record.resolved(pool?.name);
  if (deps.tracing) {
    record.traceId = annotateRequest({
      "switchyard.service": request.service,
      "switchyard.request_id": request.requestId,
      "gen_ai.request.model": body.model,
    });
  }
  if (!pool) {
    if (service.upstreams.some((upstream) => upstream.name === body.model)) {
      throw new GatewayError(
        503,
        "model_unavailable",
        `Every instance of the model "${body.model}" is draining or disabled`,
        { param: "model", headers: { "retry-after": "10" } },
      );
    }
    throw new GatewayError(
      404,
      "model_not_found",
      `The model "${body.model}" does not exist or is not served at ${endpoint.path}`,
      { param: "model", type: "invalid_request_error" },
    );
  }
  if (admission.delay > 0 && !await pause(admission.delay, request.request.signal)) {
    return clientGone();
  }

  const shared = {
    request,
    deps,
    service,
    client,
    base: baseUpstreamHeaders(request.request.headers, {
      requestId: request.requestId,
      forwardedFor: request.forwardedFor,
      contentType: body.contentType,
      traced: deps.tracing ?? false,
    }),
  };
  const outcome = await tryModel(pool, body, shared);
  if (deps.tracing) {
    annotateRequest({
      "switchyard.instance": record.instance?.id ?? "",
      "switchyard.retries": Math.max(0, record.attempts - 1),
    });
  }
  const cacheKey = service.cache && !body.stream
    ? requestCacheKey(service, body, request.request.headers)
    : undefined;
  let response: Response;
  switch (outcome.kind) {
    case "client-gone":
      return clientGone();
    case "refused":
      throw outcome.error;
    case "failed":
      response = await fallBack(outcome, { body, shared, cacheKey });
      break;
    case "answered":
      response = service.cache && cacheKey !== undefined
        ? cacheOnTheWay(outcome.response, { cache: service.cache, key: cacheKey, now: clock })
        : outcome.response;
      break;
  }
  const metered = admission.tightest ?? (outcome.kind === "answered" ? outcome.metered : undefined);
  if (metered) {
    for (const [name, value] of Object.entries(rateLimitHeaders(metered))) {
      response.headers.set(name, value);
    }
  }
  return response;
}

/** Whose requests each scope counts, as a refused client reads it. */
const SCOPE_WORDS = {
  global: "all clients together",
  service: "this service",
  instance: "this instance",
  "client-ip": "your IP address",
  "api-key": "your API key",
} as const;

/** `Rate limit reached for your IP address: bursts of 3, then 0.5 requests per second…`. */
function refusalMessage({ policy, decision }: Metered): string {
  const { algorithm, capacity, rate, window } = policy.settings;
  const limit = algorithm === "sliding-window"
    ? `${capacity} requests per ${window} ms`
    : algorithm === "leaky-bucket"
    ? `${rate} requests per second, ${capacity} waiting at most`
    : `bursts of ${capacity}, then ${rate} requests per second`;
  return `Rate limit reached for ${SCOPE_WORDS[policy.scope]}: ${limit} (${algorithm}). ` +
    `Retry in ${retryAfterSeconds(decision.retryAfter)} s.`;
}

/** Nobody will read it; nginx's 499 names the case in logs. */
function clientGone(): Response {
  return new Response(null, { status: 499 });
}

/**
 * Serving one model: pick an instance among those that may take the request (available, under
 * their limits, below their concurrency cap), send, and after a retryable failure before the
 * first byte back off and try again — on another instance when there is one. When every
 * instance is at its cap, the request waits in the model's queue for a free slot.
 * @module
 */
import { GatewayError } from "../../errors.ts";
import { isAvailable, isInService, soonestBack } from "../../health/availability.ts";
import {
  hasRoom,
  type LimitedClient,
  type LiveLimit,
  type Metered,
  soonestRefusal,
} from "../../limiter/admission.ts";
import { rateLimitHeaders } from "../../limiter/headers.ts";
import type { ModelPool, Upstream } from "../../registry/snapshot.ts";
import { backoffDelay } from "../../retry/backoff.ts";
import { retryAfterSeconds } from "../../retry/retry_after.ts";
import { attempt, type Failure } from "./attempt.ts";
import { UpstreamLease } from "./lease.ts";
import type { ClientBody } from "../request/body.ts";
import type { Translation } from "../../adapters/types.ts";
import { type Exchange, passThrough } from "../exchange.ts";
import type { ModelOutcome, ModelRequest } from "../types.ts";
import { attemptHeaders } from "../request/upstream_headers.ts";
import { pause } from "../../lib/pause.ts";

const GONE: ModelOutcome = { kind: "client-gone" };
const GONE_FAILURE: Failure = { kind: "client-gone" };
const NO_CLIENT_CREDENTIALS = new Headers();

/** Serves `body` from `pool`, with retries and queueing. */
export async function tryModel(
  pool: ModelPool,
  body: ClientBody,
  shared: ModelRequest,
): Promise<ModelOutcome> {
  const { request, deps, service, client } = shared;
  const clock = deps.now ?? Date.now;
  const hashHeader = service.loadBalance.hashHeader;
  const context = {
    model: body.model,
    clientIp: request.clientIp,
    hashKey: hashHeader ? request.request.headers.get(hashHeader) ?? undefined : undefined,
  };
  const tried = new Set<Upstream>();
  let now = clock();
  const eligible = (upstream: Upstream) =>
    upstream.state.active < upstream.maxConcurrency && isAvailable(upstream, now) &&
    (upstream.limits.length === 0 || hasRoom(upstream.limits, client, now));
  const untried = (upstream: Upstream) => !tried.has(upstream) && eligible(upstream);

  const pickFirst = () => {
    now = clock();
    return pool.strategy.pick(context, untried);
  };
  const first = await firstPick(pool, { pick: pickFirst, shared });
  if (!("id" in first)) return first;
  const exchangeFor = exchanges(body, now);
  let upstream: Upstream = first;
  let retriesLeft = service.retry.count;
  let retries = 0;
  let failures = 0;
  // The latest answer a backend gave, held in memory; it wins over a later instance that gave
  // none.
  let answered: Response | undefined;
  const record = request.record;
  for (;;) {
    tried.add(upstream);
    record.picked(upstream, service.loadBalance.type);
    let outcome: Response | Failure | undefined;
    let metered: Metered | undefined;
    {
      using lease = UpstreamLease.claim(upstream, { client, now: clock, observer: record });
      if (lease === undefined) {
        outcome = undefined;
      } else if (lease.delay > 0 && !await pause(lease.delay, request.request.signal)) {
        outcome = GONE_FAILURE;
      } else {
        metered = lease.metered;
        const exchange = exchangeFor(upstream);
        outcome = await attempt(lease, {
          exchange,
          headers: attemptHeaders(
            shared.base,
            // A client that authenticated to the gateway presented the gateway's credential.
            request.identity ? NO_CLIENT_CREDENTIALS : request.request.headers,
            upstream,
            exchange.contentType === body.contentType ? undefined : exchange.contentType,
          ),
          clientRequest: request.request,
          delivered: request.delivered,
          pattern: pool.pattern,
          retry: service.retry,
          server: deps.server,
          transport: deps.transport,
          now: clock,
          record,
          tracing: deps.tracing ?? false,
        });
      }
    }
    if (outcome instanceof Response) {
      return { kind: "answered", response: outcome, metered };
    }
    if (outcome?.kind === "client-gone") return GONE;
    let next: Upstream | undefined;
    if (outcome === undefined || (outcome.kind === "response" && outcome.notServed)) {
      // Not a failure of the instance: move on without spending a retry.
      if (outcome) answered = outcome.response;
      now = clock();
      next = pool.strategy.pick(context, untried);
    } else {
      failures++;
      if (outcome.kind === "response") answered = outcome.response;
      if (outcome.retryable && retriesLeft-- > 0) {
        const delay = backoffDelay(retries++, {
          base: service.retry.baseDelay,
          max: service.retry.maxDelay,
        }, deps.random ?? Math.random);
        if (!await pause(delay, request.request.signal)) return GONE;
        now = clock();
        next = pool.strategy.pick(context, untried) ?? pool.strategy.pick(context, eligible);
      }
    }
    if (next) {
      upstream = next;
      continue;
    }
    // A backend asking the client to slow down is an answer, not a failure to fall back from.
    if (answered?.status === 429) {
      return { kind: "answered", response: answered, metered: undefined };
    }
    return { kind: "failed", answered, error: lastError(outcome, body.model, failures) };
  }
}

/**
 * The first instance for a request, waiting in the model's queue while every instance is at
 * its concurrency cap; or why there is none.
 */
async function firstPick(
  pool: ModelPool,
  { pick, shared }: { pick: () => Upstream | undefined; shared: ModelRequest },
): Promise<Upstream | ModelOutcome> {
  const clock = shared.deps.now ?? Date.now;
  const deadline = clock() + pool.queueTimeout;
  for (;;) {
    const picked = pick();
    if (picked) return picked;
    const now = clock();
    const blocked = blockage(pool.upstreams, shared.client, now);
    if (blocked.busy && pool.queue) {
      const waitingSince = performance.now();
      const waited = await pool.queue.wait(
        Math.max(0, deadline - now),
        shared.request.request.signal,
      );
      if (waited !== "full") shared.request.record.queued(performance.now() - waitingSince);
      if (waited === "woken") continue;
      if (waited === "aborted") return GONE;
      return {
        kind: "refused",
        error: waited === "full"
          ? new GatewayError(
            429,
            "queue_full",
            `Every instance of model "${pool.name}" is busy and ${pool.queue.size} requests ` +
              `are already waiting`,
            { headers: { "retry-after": "1" }, type: "requests" },
          )
          : new GatewayError(
            503,
            "queue_timeout",
            `No instance of model "${pool.name}" became free within ${pool.queueTimeout} ms`,
            { headers: { "retry-after": "1" } },
          ),
      };
    }
    if (blocked.limited) {
      shared.request.record.rateLimit("instance", "rejected");
      const refusal = soonestRefusal(blocked.limits, shared.client, now);
      const wait = Math.min(refusal?.decision.retryAfter ?? Infinity, blocked.coolingFor);
      return {
        kind: "refused",
        error: new GatewayError(
          429,
          "rate_limit_exceeded",
          `Every instance of model "${pool.name}" is at its rate limit; retry later`,
          {
            type: "requests",
            headers: {
              ...(refusal ? rateLimitHeaders(refusal) : {}),
              "retry-after": retryAfterSeconds(wait),
            },
          },
        ),
      };
    }
    return {
      kind: "failed",
      answered: undefined,
      error: new GatewayError(
        503,
        "no_healthy_upstream",
        `Every instance of model "${pool.name}" is out of service (down, ejected or its ` +
          `circuit breaker open)`,
        { headers: { "retry-after": retryAfterSeconds(soonestBack(pool.upstreams, now)) } },
      ),
    };
  }
}

/** Why no instance could be picked, where it is not that they are out of service. */
interface Blockage {
  /** Some instance would serve but for its concurrency cap. */
  readonly busy: boolean;
  /** Some instance would serve but for its rate limits or a 429 cool-down. */
  readonly limited: boolean;
  /** The limits of the instances held back by them. */
  readonly limits: readonly LiveLimit[];
  /** ms until the soonest cool-down ends; Infinity when none holds an instance back. */
  readonly coolingFor: number;
}

function blockage(upstreams: readonly Upstream[], client: LimitedClient, now: number): Blockage {
  let busy = false;
  let limited = false;
  const limits: LiveLimit[] = [];
  let coolingFor = Infinity;
  for (const upstream of upstreams) {
    if (!isInService(upstream, now)) continue;
    const { state } = upstream;
    if (state.cooldownUntil > now) {
      limited = true;
      coolingFor = Math.min(coolingFor, state.cooldownUntil - now);
    } else if (upstream.limits.length > 0 && !hasRoom(upstream.limits, client, now)) {
      limited = true;
      limits.push(...upstream.limits);
    } else if (state.active >= upstream.maxConcurrency) {
      busy = true;
    }
  }
  return { busy, limited, limits, coolingFor };
}

/**
 * What to send each instance: the client's bytes, or the translation its adapter makes, each
 * made once per request and only when such an instance is tried.
 */
function exchanges(body: ClientBody, now: number): (upstream: Upstream) => Exchange {
  const plain = passThrough(body);
  let translated: Map<Translation, Exchange> | undefined;
  return (upstream) => {
    const translation = upstream.translation;
    if (translation === undefined) return plain;
    translated ??= new Map();
    let exchange = translated.get(translation);
    if (exchange === undefined) {
      exchange = translation.exchange(body, now);
      translated.set(translation, exchange);
    }
    return exchange;
  };
}

/** The gateway's error for the last failure, when no backend answer is passed on. */
function lastError(
  failure: Failure | undefined,
  model: string,
  failures: number,
): GatewayError {
  const tries = failures === 1 ? "1 attempt" : `${failures} attempts`;
  if (failure?.kind === "transport") {
    return new GatewayError(
      failure.error.status,
      failure.error.code,
      `Model "${model}" failed after ${tries}: ${failure.error.message}`,
    );
  }
  const status = failure?.kind === "response" ? failure.response.status : 502;
  return new GatewayError(
    502,
    "upstream_error",
    `Model "${model}" failed after ${tries}: the backend answered ${status}`,
  );
}

/**
 * Serving one model: the instance selection picks (see `select/`) is claimed and sent the
 * request, and after a retryable failure before the first byte the request backs off and is
 * tried again — on another instance when there is one.
 * @module
 */
import { GatewayError, OPENAI_ERRORS } from "../../errors.ts";
import type { Metered } from "../../limiter/admission.ts";
import type { MeteredTokens } from "../../limiter/token_limits.ts";
import type { ModelPool, Upstream } from "../../registry/snapshot.ts";
import { backoffDelay } from "../../retry/backoff.ts";
import { selectionFor } from "../select/selection.ts";
import { attempt, type Failure } from "./attempt.ts";
import { UpstreamLease } from "./lease.ts";
import type { ClientBody } from "../request/body.ts";
import { type Exchange, passThrough, type Translation } from "../exchange.ts";
import type { ModelOutcome, ModelRequest } from "../types.ts";
import { attemptHeaders } from "../request/upstream_headers.ts";
import { pause } from "../../lib/pause.ts";
import { withEnginePriority } from "../../queue/engine_priority.ts";
import type { PriorityClass } from "../../queue/priority.ts";
import type { ServiceType } from "../../services.ts";
import { withUsageAsked } from "../request/usage_asked.ts";

const GONE: ModelOutcome = { kind: "client-gone" };
/** The services whose streams end with a usage-only event when asked: OpenAI's `include_usage`. */
const USAGE_STREAMS: ReadonlySet<ServiceType> = new Set(["chat", "completion"]);
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
  const selection = selectionFor(pool, body.model, shared);
  const first = await selection.first();
  if (!("id" in first)) return first;
  const exchangeFor = exchanges(body, {
    now: clock(),
    priority: shared.place.priority,
    usage: !USAGE_STREAMS.has(service.type) ? "never" : shared.countsTokens ? "always" : "limited",
  });
  // What the request holds an instance to, while it is in flight: the estimate token limits read.
  const estimate = shared.tokenEstimate();
  const tokens = estimate.input + estimate.output;
  let upstream: Upstream = first;
  let retriesLeft = service.retry.count;
  let retries = 0;
  let failures = 0;
  // The latest answer a backend gave, held in memory; it wins over a later instance that gave
  // none.
  let answered: Response | undefined;
  const record = request.record;
  for (;;) {
    record.picked(upstream, service.loadBalance.type);
    let outcome: Response | Failure | undefined;
    let metered: Metered | undefined;
    let meteredTokens: MeteredTokens | undefined;
    {
      using lease = UpstreamLease.claim(upstream, {
        client,
        now: clock,
        observer: record,
        tokens,
        tokenEstimate: shared.tokenEstimate,
        concurrency: request.identity?.concurrency,
      });
      if (lease === undefined) {
        outcome = undefined;
      } else if (lease.delay > 0 && !await pause(lease.delay, request.request.signal)) {
        outcome = GONE_FAILURE;
      } else {
        metered = lease.metered;
        meteredTokens = lease.meteredTokens;
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
          inFlight: deps.attempts,
          // Only an adaptive limit weighs time to first token by the prompt's size.
          promptTokens: upstream.concurrency ? shared.tokenEstimate().input : 0,
          now: clock,
          record,
          errors: request.errors ?? OPENAI_ERRORS,
          storeUse: shared.storeUse,
        });
        // The instance's tokens settle with the answer's usage; an attempt that failed gives
        // them back with the lease.
        if (outcome instanceof Response) {
          const answered = lease.answeredTokens();
          if (answered) record.reservedTokens(answered);
        }
      }
    }
    if (outcome instanceof Response) {
      return { kind: "answered", response: outcome, metered, meteredTokens };
    }
    if (outcome?.kind === "client-gone") return GONE;
    let next: Upstream | undefined;
    if (outcome === undefined || (outcome.kind === "response" && outcome.notServed)) {
      // Not a failure of the instance: move on without spending a retry.
      if (outcome) answered = outcome.response;
      next = selection.next();
    } else {
      failures++;
      if (outcome.kind === "response") answered = outcome.response;
      if (outcome.kind === "transport" && outcome.permanent) {
        next = selection.next();
      } else if (outcome.retryable && retriesLeft-- > 0) {
        const delay = backoffDelay(retries++, {
          base: service.retry.baseDelay,
          max: service.retry.maxDelay,
        }, deps.random ?? Math.random);
        if (!await pause(delay, request.request.signal)) return GONE;
        next = selection.again();
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
 * What to send each instance: the client's bytes (with the priority spliced in for an instance
 * that forwards it), or the translation its adapter makes, each made once per request and only
 * when such an instance is tried.
 */
function exchanges(
  body: ClientBody,
  { now, priority, usage }: {
    now: number;
    priority: PriorityClass;
    /**
     * Which instances a stream asks for `usage`: every one (the client's or the service's token
     * limits count the request), those with token limits of their own, or none (the service's
     * API has no such option).
     */
    usage: "always" | "limited" | "never";
  },
): (upstream: Upstream) => Exchange {
  const plain = passThrough(body);
  let asking: { readonly body: ClientBody; readonly exchange: Exchange } | undefined;
  let prioritized: Map<Exchange, Exchange> | undefined;
  let translated: Map<Translation, Exchange> | undefined;
  return (upstream) => {
    const translation = upstream.translation;
    if (translation === undefined) {
      let sent = { body, exchange: plain };
      if (usage === "always" || (usage === "limited" && upstream.tokenLimits.length > 0)) {
        // Made once, and only for a request some token limit counts.
        if (asking === undefined) {
          const asked = withUsageAsked(body);
          asking = asked
            ? { body: asked, exchange: { ...passThrough(asked), hidesUsage: true } }
            : sent;
        }
        sent = asking;
      }
      if (!upstream.forwardPriority) return sent.exchange;
      prioritized ??= new Map();
      let spliced = prioritized.get(sent.exchange);
      if (spliced === undefined) {
        const bytes = withEnginePriority(sent.body, priority);
        spliced = bytes === undefined ? sent.exchange : { ...sent.exchange, body: bytes };
        prioritized.set(sent.exchange, spliced);
      }
      return spliced;
    }
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
      { type: failure.error.type, headers: failure.error.headers },
    );
  }
  const status = failure?.kind === "response" ? failure.response.status : 502;
  return new GatewayError(
    502,
    "upstream_error",
    `Model "${model}" failed after ${tries}: the backend answered ${status}`,
  );
}

/**
 * A request's way through the gateway, in one direction: meet the service's rate limits, read
 * the body (request/), find the model's pool, serve it from an instance (attempt/: selection,
 * lease, transport, with retries and queueing), and when every instance fails, the cached
 * answer or the fallback models in turn (respond/). Successful answers carry the client's
 * remaining budget, and answers that waited in a queue say how (queue/); a stream that waits
 * long there is started early. The one module that reaches across the proxy's stages.
 * @module
 */
import { modelRefusal } from "../auth/authenticator.ts";
import { budgetRefusal } from "../budget/budgets.ts";
import type { UsageLedger } from "../budget/ledger.ts";
import { GatewayError, OPENAI_ERRORS } from "../errors.ts";
import { pause } from "../lib/pause.ts";
import { admit, type Metered } from "../limiter/admission.ts";
import { rateLimitHeaders, tokenLimitHeaders } from "../limiter/headers.ts";
import { type MeteredTokens, reserveTokens, type TokenEstimate } from "../limiter/token_limits.ts";
import { estimatedTokenParts } from "./request/estimated_tokens.ts";
import { retryAfterSeconds } from "../retry/retry_after.ts";
import { SERVICE_ENDPOINTS } from "../services.ts";
import { tryModel } from "./attempt/model_attempts.ts";
import { type ClientBody, readClientBody, replaceModel } from "./request/body.ts";
import { limitedClient } from "./request/client_identity.ts";
import { needsOf, type RequestNeeds } from "./request/needs.ts";
import { baseUpstreamHeaders } from "./request/upstream_headers.ts";
import {
  cachedAnswer,
  cacheOnTheWay,
  failureAnswer,
  FALLBACK_MODEL_HEADER,
  requestCacheKey,
} from "./respond/fallback.ts";
import type { ModelGroup } from "../registry/model_groups.ts";
import { membersInOrder, SERVED_MODEL_HEADER } from "./select/group_choice.ts";
import type { ModelOutcome, ModelRequest, ProxyDeps, ProxyRequest } from "./types.ts";
import type { ModelPool } from "../registry/snapshot.ts";
import { queuePlace } from "../queue/priority.ts";
import { QueueVisit } from "../queue/queue_visit.ts";
import { keptAlive, withQueueHeaders } from "../queue/kept_alive.ts";

export type { ProxyDeps, ProxyRequest } from "./types.ts";

/** Forwards a client request to an instance of its model and returns the response to send. */
export async function forward(request: ProxyRequest, deps: ProxyDeps): Promise<Response> {
  const clock = deps.now ?? Date.now;
  const serving = deps.registry.snapshot.services[request.service];
  const service = request.operation === "count_tokens" ? serving.tokenCounts : serving;
  if (service === undefined) throw new TypeError(`${request.service} counts no tokens`);
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

  const place = queuePlace(identity, request.request.headers);

  const endpoint = SERVICE_ENDPOINTS[request.service];
  const path = request.operation ? `${endpoint.path}/${request.operation}` : endpoint.path;
  const body = await readClientBody(request.request, endpoint.body, {
    maxBytes: deps.server["max-body-size"],
    idle: deps.bodyIdle,
  });
  record.bodyRead(body.model, body.bytes);
  if (identity && !identity.allows(body.model)) throw modelRefusal(identity, body.model);
  const pool = service.resolve(body.model);
  const group = pool === undefined ? service.groups.get(body.model) : undefined;
  record.resolved(pool?.name ?? group?.name);
  if (!pool && !group) {
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
      `The model "${body.model}" does not exist or is not served at ${path}`,
      { param: "model", type: "invalid_request_error" },
    );
  }
  const tokens = request.operation === "count_tokens"
    ? []
    : identity
    ? identity.tokenLimitsWith(service.tokenLimits)
    : service.tokenLimits;
  let tightestTokens: MeteredTokens | undefined;
  let needs: RequestNeeds | undefined;
  const needsOfBody = () => needs ??= needsOf(body);
  let estimate: TokenEstimate | undefined;
  const tokenEstimate = () => estimate ??= estimatedTokenParts(body, needsOfBody());
  if (tokens.length > 0) {
    const reserved = reserveTokens(tokens, client, tokenEstimate(), clock);
    if (!reserved.allowed) {
      throw new GatewayError(429, "rate_limit_exceeded", tokenRefusalMessage(reserved.refusal), {
        type: "tokens",
        headers: tokenLimitHeaders(reserved.refusal),
      });
    }
    record.reservedTokens(reserved.reservation);
    tightestTokens = reserved.tightest;
  }
  const ledger = deps.ledger;
  let storeUse: (() => Promise<void>) | undefined;
  if (ledger && identity) {
    const refusal = budgetRefusal(ledger, identity.budgets, clock());
    if (refusal) throw refusal;
    ledger.record(identity.subjects, pool?.name ?? group!.name, { requests: 1 });
    if (identity.budgets.length > 0) storeUse = committer(ledger);
  }
  if (admission.delay > 0 && !await pause(admission.delay, request.request.signal)) {
    return clientGone();
  }

  const visit = new QueueVisit();
  const shared: ModelRequest = {
    request,
    deps,
    service,
    client,
    base: upstreamHeadersFor(body, request),
    needs: needsOfBody,
    place,
    visit,
    // The usage ledger counts a client's tokens too, for budgets and the usage report.
    countsTokens: tokens.length > 0 || (ledger !== undefined && identity !== undefined),
    tokenEstimate,
    storeUse,
  };
  let answering = serve(pool, group, body, shared, admission.tightest, tightestTokens);
  if (storeUse) answering = useStoredFirst(answering, record, storeUse);
  // A group's members are tried in turn, each with its own queue: no early head for them.
  if (body.stream && pool?.queue && pool.queueKeepAlive > 0) {
    return keptAlive(answering, visit, {
      every: pool.queueKeepAlive,
      errors: request.errors ?? OPENAI_ERRORS,
    });
  }
  return withQueueHeaders(await answering, visit);
}

/**
 * Stores the use `ledger` has recorded. Made here rather than in `forward`, whose closures share
 * one scope with the request's body: a stream keeps this until it ends, and nothing of its request.
 */
function committer(ledger: UsageLedger): () => Promise<void> {
  return () => ledger.commit();
}

/**
 * A whole answer goes out once the request's use is stored; a relayed body waits at its end
 * instead. A refusal after the request was counted (its queue full) waits too. A gateway killed
 * after a client had its answer has counted it against the budget.
 */
async function useStoredFirst(
  answering: Promise<Response>,
  record: ProxyRequest["record"],
  storeUse: () => Promise<void>,
): Promise<Response> {
  let response: Response;
  try {
    response = await answering;
  } catch (refusal) {
    await storeUse();
    throw refusal;
  }
  if (record.answerWhole(response.status)) await storeUse();
  return response;
}

/**
 * The answer from `pool` (or, without one, the best member of `group` that answers), or from the cache or the
 * fallback models when every instance failed; throws the refusal of a limit or the queue.
 */
async function serve(
  pool: ModelPool | undefined,
  group: ModelGroup | undefined,
  body: ClientBody,
  shared: ModelRequest,
  tightest: Metered | undefined,
  tightestTokens: MeteredTokens | undefined,
): Promise<Response> {
  const { request, deps, service } = shared;
  const clock = deps.now ?? Date.now;
  const record = request.record;
  let outcome = pool ? await tryModel(pool, body, shared) : await tryGroup(group!, body, shared);
  const cacheKey = service.cache && !body.stream
    ? requestCacheKey(service, body, request.request.headers)
    : undefined;
  if (outcome.kind === "failed") {
    const failed = outcome;
    // The last answer to the same request, then the fallback models in order.
    const cached = cacheKey === undefined ? undefined : cachedAnswer(service, cacheKey, clock());
    if (cached) {
      record.fellBack("cache");
      return cached;
    }
    for (const model of service.fallback.models) {
      const fallbackPool = model === body.model ? undefined : service.resolve(model);
      if (!fallbackPool) continue;
      const rewritten = replaceModel(body, model);
      outcome = await tryModel(fallbackPool, rewritten, {
        ...shared,
        base: upstreamHeadersFor(rewritten, request),
      });
      if (outcome.kind === "answered") {
        record.fellBack(model);
        outcome.response.headers.set(FALLBACK_MODEL_HEADER, model);
        return outcome.response;
      }
      if (outcome.kind === "client-gone") return clientGone();
    }
    return failureAnswer(failed, { model: body.model, fallback: service.fallback });
  }
  let response: Response;
  switch (outcome.kind) {
    case "client-gone":
      return clientGone();
    case "refused":
      throw outcome.error;
    case "answered":
      response = service.cache && cacheKey !== undefined
        ? cacheOnTheWay(outcome.response, { cache: service.cache, key: cacheKey, now: clock })
        : outcome.response;
      break;
  }
  const metered = tightest ?? (outcome.kind === "answered" ? outcome.metered : undefined);
  if (metered) {
    for (const [name, value] of Object.entries(rateLimitHeaders(metered))) {
      response.headers.set(name, value);
    }
  }
  const instanceTokens = outcome.kind === "answered" ? outcome.meteredTokens : undefined;
  const meteredTokens = tightestTokens === undefined ||
      (instanceTokens && instanceTokens.decision.remaining < tightestTokens.decision.remaining)
    ? instanceTokens
    : tightestTokens;
  if (meteredTokens) {
    for (const [name, value] of Object.entries(tokenLimitHeaders(meteredTokens))) {
      response.headers.set(name, value);
    }
  }
  return response;
}

/**
 * Serves `body` from the best member of `group` that answers: its members in the order
 * {@linkcode membersInOrder} ranks them, each sent the request with its own model name. The
 * answer says which served it in `x-switchyard-model`. When none answers, how the last one tried
 * failed, else why one refused.
 */
async function tryGroup(
  group: ModelGroup,
  body: ClientBody,
  shared: ModelRequest,
): Promise<ModelOutcome> {
  const { request, deps } = shared;
  let last: ModelOutcome | undefined;
  for (const member of membersInOrder(group, (deps.now ?? Date.now)())) {
    const rewritten = replaceModel(body, member.model);
    request.record.resolved(member.pool.name);
    const outcome = await tryModel(member.pool, rewritten, {
      ...shared,
      base: upstreamHeadersFor(rewritten, request),
    });
    if (outcome.kind === "answered") {
      outcome.response.headers.set(SERVED_MODEL_HEADER, member.model);
      return outcome;
    }
    if (outcome.kind === "client-gone") return outcome;
    if (outcome.kind === "failed" || last?.kind !== "failed") last = outcome;
  }
  return last!;
}

/** Whose requests each scope counts, as a refused client reads it. */
const SCOPE_WORDS = {
  global: "all clients together",
  service: "this service",
  instance: "this instance",
  "client-ip": "your IP address",
  "api-key": "your API key",
  team: "your team",
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

/** `Rate limit reached for your API key: 1000 total tokens per minute…`. */
function tokenRefusalMessage({ policy, decision, asked }: MeteredTokens): string {
  const { perMinute, counts } = policy.settings;
  return `Rate limit reached for ${SCOPE_WORDS[policy.scope]}: ${perMinute} ${counts} tokens ` +
    `per minute; this request is estimated at ${asked} and ${decision.remaining} are left. ` +
    `Retry in ${retryAfterSeconds(decision.retryAfter)} s.`;
}

/** The upstream headers every attempt at `body` shares. */
function upstreamHeadersFor(body: ClientBody, request: ProxyRequest) {
  return baseUpstreamHeaders(request.request.headers, {
    requestId: request.requestId,
    forwardedFor: request.forwardedFor,
    contentType: body.contentType,
    traced: request.record.traced,
  });
}

/** Nobody will read it; nginx's 499 names the case in logs. */
function clientGone(): Response {
  return new Response(null, { status: 499 });
}

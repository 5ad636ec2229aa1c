/**
 * Picking the instances of one pool for one request: those that may take it (available, under
 * their limits, below their concurrency cap), each tried once while another is left; the
 * service's strategy chooses among them. When every instance is at its cap, the first pick
 * waits in the model's queue for a free slot; when none can serve, it says why.
 * @module
 */
import { GatewayError } from "../../errors.ts";
import {
  isAvailable,
  isInService,
  outOfServiceReason,
  type OutReason,
  soonestBack,
} from "../../registry/availability.ts";
import {
  hasRoom,
  type LimitedClient,
  type LiveLimit,
  soonestRefusal,
} from "../../limiter/admission.ts";
import { rateLimitHeaders, tokenLimitHeaders } from "../../limiter/headers.ts";
import {
  hasTokenRoom,
  type LiveTokenLimit,
  soonestTokenRefusal,
  type TokenEstimate,
} from "../../limiter/token_limits.ts";
import type { ModelPool, Upstream } from "../../registry/snapshot.ts";
import { retryAfterSeconds } from "../../retry/retry_after.ts";
import type { ModelOutcome, ModelRequest } from "../types.ts";
import { canServe, missingCapability } from "./capabilities.ts";
import { QueueTicket } from "../../queue/wait_queue.ts";

const GONE: ModelOutcome = { kind: "client-gone" };

/** One request's picks among a pool's instances. */
export interface Selection {
  /**
   * The first instance, waiting in the model's queue while every instance is at its cap; or
   * the outcome that none can serve.
   */
  first(): Promise<Upstream | ModelOutcome>;
  /** An instance not picked yet, if one may take the request. */
  next(): Upstream | undefined;
  /** For a retry: an instance not picked yet, else any that may take the request again. */
  again(): Upstream | undefined;
}

/** The selection of `pool`'s instances for a request for `model`. */
export function selectionFor(pool: ModelPool, model: string, shared: ModelRequest): Selection {
  const { request, service, client } = shared;
  const clock = shared.deps.now ?? Date.now;
  const hashHeader = service.loadBalance.hashHeader;
  const context = {
    model,
    clientIp: request.clientIp,
    hashKey: hashHeader ? request.request.headers.get(hashHeader) ?? undefined : undefined,
  };
  // A few at most: an array is cheaper to make and search than a set.
  const tried: Upstream[] = [];
  let now = clock();
  const capable = capableOf(pool, shared);
  const eligible = (upstream: Upstream) =>
    (capable === undefined || capable.includes(upstream)) &&
    upstream.state.active < upstream.maxConcurrency && isAvailable(upstream, now) &&
    (upstream.limits.length === 0 || hasRoom(upstream.limits, client, now)) &&
    (upstream.tokenLimits.length === 0 ||
      hasTokenRoom(upstream.tokenLimits, client, shared.tokenEstimate(), now));
  const untried = (upstream: Upstream) => !tried.includes(upstream) && eligible(upstream);
  const picked = (upstream: Upstream | undefined) => {
    if (upstream) tried.push(upstream);
    return upstream;
  };
  const next = () => {
    now = clock();
    return picked(pool.strategy.pick(context, untried));
  };
  // A client at its own concurrency cap waits for one of its requests to end, like a request
  // that finds every instance at its cap. Retries of a request already under way are not held.
  const concurrency = shared.request.identity?.concurrency;
  const pickFirst = concurrency ? () => concurrency.hasRoom() ? next() : undefined : next;
  return {
    first: () =>
      capable?.length === 0 ? Promise.resolve(incapable(pool, model, shared)) : firstPick(pool, {
        pick: pickFirst,
        model,
        shared,
        upstreams: capable ?? pool.upstreams,
      }),
    next,
    again: () => next() ?? picked(pool.strategy.pick(context, eligible)),
  };
}

/**
 * The first instance for a request, waiting in the model's queue while every instance is at
 * its concurrency cap; or why there is none.
 */
async function firstPick(
  pool: ModelPool,
  { pick, model, shared, upstreams }: {
    pick: () => Upstream | undefined;
    /** The model the client asked for: `pool.name` may be a pattern. */
    model: string;
    shared: ModelRequest;
    /** The instances that can take the request. */
    upstreams: readonly Upstream[];
  },
): Promise<Upstream | ModelOutcome> {
  const clock = shared.deps.now ?? Date.now;
  const deadline = clock() + pool.queueTimeout;
  const { visit } = shared;
  const concurrency = shared.request.identity?.concurrency;
  // Made once: a request woken that finds no free slot waits again in its turn.
  let ticket: QueueTicket | undefined;
  let woken = false;
  for (;;) {
    const picked = pick();
    if (picked) return picked;
    const now = clock();
    const blocked = blockage(
      upstreams,
      shared.client,
      shared.tokenEstimate,
      now,
      concurrency?.hasRoom() ?? true,
    );
    if (blocked.busy && pool.queue) {
      const queue = pool.queue;
      ticket ??= new QueueTicket(shared.place, concurrency && (() => concurrency.hasRoom()));
      // Woken when one of the client's requests ends, wherever it was served.
      using _waiting = concurrency?.waitIn(queue);
      const waitingSince = performance.now();
      let joined = false;
      const waited = await queue.wait(ticket, {
        timeout: Math.max(0, deadline - now),
        signal: shared.request.request.signal,
        entered: (position, current) => {
          joined = true;
          visit.entered(position, current);
        },
      });
      if (joined) {
        const ms = performance.now() - waitingSince;
        visit.left(ms);
        shared.request.record.queued(ms);
      }
      if (waited === "woken") {
        woken = true;
        continue;
      }
      if (waited === "aborted") return GONE;
      // Until the requests waiting now have left at the rate the queue drains; a queue not
      // seen to drain yet has them gone by the time the longest of them may wait.
      const drained = Math.min(queue.drainTime() ?? pool.queueTimeout, pool.queueTimeout);
      const atOwnCap = concurrency !== undefined && !concurrency.hasRoom();
      const busy = atOwnCap
        ? `The credential "${shared.request.identity!.id}" is at its max-concurrency`
        : `Every instance of model "${pool.name}" is busy`;
      return {
        kind: "refused",
        error: waited === "full"
          ? new GatewayError(
            429,
            "queue_full",
            `${busy} and ${queue.size} requests are already waiting`,
            {
              headers: { ...visit.headers(), "retry-after": retryAfterSeconds(drained) },
              type: "requests",
            },
          )
          : new GatewayError(
            503,
            "queue_timeout",
            atOwnCap
              ? `${busy} (its key's or its team's): none of its requests ended within ` +
                `${pool.queueTimeout} ms`
              : `No instance of model "${pool.name}" became free within ${pool.queueTimeout} ms`,
            { headers: { ...visit.headers(), "retry-after": retryAfterSeconds(drained) } },
          ),
      };
    }
    // Woken for a slot it cannot use (its limits, or the instance went out): the next may.
    if (woken) pool.queue?.wake();
    if (blocked.limited) {
      shared.request.record.rateLimit("instance", "rejected");
      const refusal = soonestRefusal(blocked.limits, shared.client, now);
      const tokenRefusal = blocked.tokenLimits.length === 0
        ? undefined
        : soonestTokenRefusal(blocked.tokenLimits, shared.client, shared.tokenEstimate(), now);
      const wait = Math.min(
        refusal?.decision.retryAfter ?? Infinity,
        tokenRefusal?.decision.retryAfter ?? Infinity,
        blocked.coolingFor,
      );
      return {
        kind: "refused",
        error: new GatewayError(
          429,
          "rate_limit_exceeded",
          `Every instance of model "${pool.name}" is at its rate limit; retry later`,
          {
            type: refusal || !tokenRefusal ? "requests" : "tokens",
            headers: {
              ...(refusal ? rateLimitHeaders(refusal) : {}),
              ...(tokenRefusal ? tokenLimitHeaders(tokenRefusal) : {}),
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
        `Every instance of model "${model}" is out of service${
          outOfServiceSummary(upstreams, now)
        }`,
        { headers: { "retry-after": retryAfterSeconds(soonestBack(upstreams, now)) } },
      ),
    };
  }
}

/**
 * The instances of `pool` that can take the request, read from its needs once; undefined when
 * every one can, or nothing is known of what they can take.
 */
function capableOf(pool: ModelPool, shared: ModelRequest): readonly Upstream[] | undefined {
  const known = pool.capabilities;
  if (known === undefined) return undefined;
  const needs = shared.needs();
  const capable = pool.upstreams.filter((upstream) => canServe(known.get(upstream), needs));
  return capable.length === pool.upstreams.length ? undefined : capable;
}

/** The refusal of a request that no instance of `pool` can take. */
function incapable(pool: ModelPool, model: string, shared: ModelRequest): ModelOutcome {
  const known = pool.upstreams.map((upstream) => pool.capabilities?.get(upstream));
  return { kind: "refused", error: missingCapability(model, shared.needs(), known) };
}

const OUT_REASON_TEXT: Readonly<Record<OutReason, string>> = {
  down: "down",
  ejected: "ejected",
  "breaker-open": "with its circuit breaker open",
};

/** `: 2 down, 1 ejected`: how many instances are out for each reason, or "" when none is. */
function outOfServiceSummary(upstreams: readonly Upstream[], now: number): string {
  const counts = new Map<OutReason, number>();
  for (const upstream of upstreams) {
    const reason = outOfServiceReason(upstream, now);
    if (reason) counts.set(reason, (counts.get(reason) ?? 0) + 1);
  }
  const parts = (Object.keys(OUT_REASON_TEXT) as OutReason[])
    .filter((reason) => counts.has(reason))
    .map((reason) => `${counts.get(reason)} ${OUT_REASON_TEXT[reason]}`);
  return parts.length === 0 ? "" : `: ${parts.join(", ")}`;
}

/** Why no instance could be picked, where it is not that they are out of service. */
interface Blockage {
  /** Some instance would serve but for its concurrency cap or the client's. */
  readonly busy: boolean;
  /** Some instance would serve but for its rate limits or a 429 cool-down. */
  readonly limited: boolean;
  /** The limits of the instances held back by them. */
  readonly limits: readonly LiveLimit[];
  /** The token limits of the instances held back by them. */
  readonly tokenLimits: readonly LiveTokenLimit[];
  /** ms until the soonest cool-down ends; Infinity when none holds an instance back. */
  readonly coolingFor: number;
}

function blockage(
  upstreams: readonly Upstream[],
  client: LimitedClient,
  estimate: () => TokenEstimate,
  now: number,
  clientHasRoom: boolean,
): Blockage {
  let busy = false;
  let limited = false;
  const limits: LiveLimit[] = [];
  const tokenLimits: LiveTokenLimit[] = [];
  let coolingFor = Infinity;
  for (const upstream of upstreams) {
    if (!isInService(upstream, now)) continue;
    if (!clientHasRoom) {
      busy = true;
      continue;
    }
    const { state } = upstream;
    if (state.cooldownUntil > now) {
      limited = true;
      coolingFor = Math.min(coolingFor, state.cooldownUntil - now);
    } else if (upstream.limits.length > 0 && !hasRoom(upstream.limits, client, now)) {
      limited = true;
      limits.push(...upstream.limits);
    } else if (
      upstream.tokenLimits.length > 0 &&
      !hasTokenRoom(upstream.tokenLimits, client, estimate(), now)
    ) {
      limited = true;
      tokenLimits.push(...upstream.tokenLimits);
    } else if (state.active >= upstream.maxConcurrency) {
      busy = true;
    }
  }
  return { busy, limited, limits, tokenLimits, coolingFor };
}

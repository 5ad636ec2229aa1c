/**
 * Whether an instance may take a request now, as selection sees it: its backend is not down,
 * it is not ejected, not cooling down after a 429, and its breaker lets a request through.
 * Strategies never learn why an instance is out.
 * @module
 */
import type { Upstream } from "./snapshot.ts";
import { isEjected } from "../health/outlier.ts";

/** Whether `upstream` may be picked at clock time `now`. */
export function isAvailable(upstream: Upstream, now: number): boolean {
  return upstream.state.cooldownUntil <= now && isInService(upstream, now);
}

/**
 * Whether `upstream` is in service: its backend is not down, it is not ejected and its
 * breaker lets a request through. One cooling down after a 429 is in service.
 */
export function isInService(upstream: Upstream, now: number): boolean {
  return outOfServiceReason(upstream, now) === undefined;
}

/** Why `upstream` is out of service at `now`, or undefined when it is in service. */
export type OutReason = "down" | "ejected" | "breaker-open";

/** Why `upstream` is out of service at `now`: the first of down, ejected, breaker open. */
export function outOfServiceReason(upstream: Upstream, now: number): OutReason | undefined {
  const health = upstream.backend.health;
  if (health.status === "down") return "down";
  if (isEjected(upstream.state, health, now)) return "ejected";
  if (upstream.breaker && !upstream.breaker.canPass(now)) return "breaker-open";
  return undefined;
}

/**
 * ms until one of `upstreams`, all out now, may be back: the end of the soonest ejection,
 * cool-down or open breaker, or one probe interval for a backend that is down.
 */
export function soonestBack(upstreams: readonly Upstream[], now: number): number {
  let soonest = Infinity;
  for (const upstream of upstreams) soonest = Math.min(soonest, msUntilBack(upstream, now));
  return soonest === Infinity ? 1_000 : soonest;
}

function msUntilBack(upstream: Upstream, now: number): number {
  const { state, backend } = upstream;
  if (backend.health.status === "down") return upstream.health.interval;
  let wait = 0;
  if (isEjected(state, backend.health, now)) wait = state.ejection!.until - now;
  wait = Math.max(wait, state.cooldownUntil - now);
  if (upstream.breaker && !upstream.breaker.canPass(now)) {
    // Half-open with every probe slot taken: back once a probe ends, at the latest its timeout.
    wait = Math.max(wait, upstream.breaker.msUntilRetry(now) || 1_000);
  }
  return wait;
}

/**
 * Whether an instance may take a request now, as selection sees it: its backend is not down
 * and it is not ejected. Strategies never learn why an instance is out.
 * @module
 */
import type { Upstream } from "../registry/snapshot.ts";
import { isEjected } from "./outlier.ts";

/** Whether `upstream` may be picked at clock time `now`. */
export function isAvailable(upstream: Upstream, now: number): boolean {
  const health = upstream.backend.health;
  return health.status !== "down" && !isEjected(upstream.state, health, now);
}

/**
 * Seconds until one of `upstreams`, all out now, may be back: the end of the soonest
 * ejection, or one probe interval for a backend that is down. At least 1.
 */
export function secondsUntilBack(upstreams: readonly Upstream[], now: number): number {
  let soonest = Infinity;
  for (const upstream of upstreams) {
    const health = upstream.backend.health;
    const wait = health.status === "down"
      ? upstream.health.interval
      : isEjected(upstream.state, health, now)
      ? upstream.state.ejection!.until - now
      : 0;
    soonest = Math.min(soonest, wait);
  }
  return Math.max(1, Math.ceil((soonest === Infinity ? 1_000 : soonest) / 1000));
}

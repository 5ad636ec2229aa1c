/**
 * Passive outlier detection: real requests that fail in a row take an instance out of rotation
 * for an ejection time that grows with each ejection, up to a cap. A series of ejections is
 * forgotten once the instance has gone the longest ejection time without one. An instance out
 * for being unreachable comes back as soon as a health probe reaches its backend again, so a
 * backend that restarts is back within one probe interval.
 *
 * Ejection keeps a floor: of the N instances that serve a model in a service, at most
 * `max(1, floor(N × max-ejection-percent / 100))` are ejected at once, and never all N, so
 * outlier detection alone always leaves at least one in rotation (a pool of one is never
 * ejected). An instance that reaches its failure threshold while the pool is at that cap stays
 * in, and its run of failures starts over. The ejected peers are counted only then, when an
 * instance reaches the threshold, never on the path of a request that succeeds or is picked.
 * @module
 */
import type { InstanceState } from "../registry/state.ts";
import type { HealthState } from "./backend_state.ts";
import type { OutlierSettings } from "./settings.ts";

/** A failed request, as outlier detection sees it. */
export interface RequestFailure {
  readonly reason: string;
  /** The backend could not be reached or timed out, rather than answering 5xx. */
  readonly unreachable: boolean;
}

/** Whether the instance is out of rotation now. */
export function isEjected(
  state: InstanceState,
  health: Pick<HealthState, "lastOkAt">,
  now: number,
): boolean {
  const ejection = state.ejection;
  if (ejection === null || now >= ejection.until) return false;
  return !(ejection.unreachable && health.lastOkAt > ejection.at);
}

/** An instance as the ejection cap counts it: its live state and its backend's health. */
export interface EjectionPeer {
  readonly state: InstanceState;
  readonly backend: { readonly health: Pick<HealthState, "lastOkAt"> };
}

/**
 * How many of `size` instances may be ejected at once: `max-ejection-percent` of them rounded
 * down, at least one, but never all of them.
 */
export function ejectionCap(size: number, maxEjectionPercent: number): number {
  return Math.min(size - 1, Math.max(1, Math.floor(size * maxEjectionPercent / 100)));
}

/**
 * Whether one more of `peers` (the instance that would be ejected among them) may be ejected
 * at `now` without going over the cap.
 */
export function ejectionAllowed(
  peers: readonly EjectionPeer[],
  maxEjectionPercent: number,
  now: number,
): boolean {
  const cap = ejectionCap(peers.length, maxEjectionPercent);
  let ejected = 0;
  for (const peer of peers) {
    if (isEjected(peer.state, peer.backend.health, now) && ++ejected >= cap) return false;
  }
  return ejected < cap;
}

/** Resets the run of failures after a request that succeeded. */
export function recordSuccess(state: InstanceState): void {
  state.consecutiveFailures = 0;
}

/** Counts a failed request; returns true when it ejected the instance. */
export function recordFailure(
  state: InstanceState,
  failure: RequestFailure,
  context: {
    readonly settings: OutlierSettings;
    readonly health: Pick<HealthState, "lastOkAt">;
    readonly now: number;
    /** Whether the cap on ejected instances leaves room for this one; asked at the threshold. */
    readonly mayEject?: () => boolean;
  },
): boolean {
  const { settings, health, now } = context;
  // Requests that were in flight when the instance was ejected do not extend the ejection.
  if (!settings.enabled || isEjected(state, health, now)) return false;
  state.consecutiveFailures++;
  if (state.consecutiveFailures < settings.consecutiveFailures) return false;
  if (context.mayEject && !context.mayEject()) {
    state.consecutiveFailures = 0;
    return false;
  }
  const last = state.ejection;
  if (last !== null && now - last.until >= settings.maxEjectionTime) state.ejections = 0;
  state.ejections++;
  const duration = Math.min(settings.baseEjectionTime * state.ejections, settings.maxEjectionTime);
  state.ejection = {
    at: now,
    until: now + duration,
    reason: `${state.consecutiveFailures} requests in a row failed, the last: ${failure.reason}`,
    unreachable: failure.unreachable,
  };
  state.consecutiveFailures = 0;
  return true;
}

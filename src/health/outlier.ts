/**
 * Passive outlier detection: real requests that fail in a row take an instance out of rotation
 * for an ejection time that grows with each ejection, up to a cap. A series of ejections is
 * forgotten once the instance has gone the longest ejection time without one. An instance out
 * for being unreachable comes back as soon as a health probe reaches its backend again, so a
 * backend that restarts is back within one probe interval.
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
  },
): boolean {
  const { settings, health, now } = context;
  // Requests that were in flight when the instance was ejected do not extend the ejection.
  if (!settings.enabled || isEjected(state, health, now)) return false;
  state.consecutiveFailures++;
  if (state.consecutiveFailures < settings.consecutiveFailures) return false;
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

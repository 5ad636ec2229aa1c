/**
 * How probe results move a backend between up and down: a backend goes down after
 * `unhealthy-threshold` failed probes in a row, or at once when the probe is refused a
 * connection or answered with 5xx; it comes back after `healthy-threshold` good probes. A
 * backend not probed yet (`unknown`) is up after its first good probe.
 * @module
 */
import type { HealthState } from "./backend_state.ts";
import type { HealthSettings } from "./settings.ts";

/** What one probe found. */
export type ProbeResult =
  | { readonly ok: true }
  | {
    readonly ok: false;
    readonly reason: string;
    /** Proof the backend cannot serve (connection refused, 5xx), not a maybe (timeout). */
    readonly decisive: boolean;
  };

/** Applies a probe result; returns true when the status changed. */
export function recordProbe(
  health: HealthState,
  result: ProbeResult,
  settings: Pick<HealthSettings, "healthyThreshold" | "unhealthyThreshold">,
  now: number,
): boolean {
  if (result.ok) {
    health.successes++;
    health.failures = 0;
    health.lastFailure = null;
    health.lastOkAt = now;
    const back = health.status === "unknown" ||
      (health.status === "down" && health.successes >= settings.healthyThreshold);
    if (!back) return false;
    const was = health.status;
    health.status = "up";
    health.reason = was === "unknown"
      ? "answered its first probe"
      : `answered ${health.successes} probes in a row`;
    health.changedAt = new Date(now).toISOString();
    return true;
  }
  health.failures++;
  health.successes = 0;
  health.lastFailure = result.reason;
  if (health.status === "down") return false;
  if (!result.decisive && health.failures < settings.unhealthyThreshold) return false;
  health.status = "down";
  health.reason = result.decisive
    ? result.reason
    : `${health.failures} probes failed in a row, the last: ${result.reason}`;
  health.changedAt = new Date(now).toISOString();
  return true;
}

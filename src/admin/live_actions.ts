/**
 * The admin actions on live state rather than config (resetting breakers, limiters and
 * statistics, probing again now): what each does in one gateway, so that with several workers
 * every worker takes the action the one that received it took.
 * @module
 */
import type { BackendMonitor, BackendRead } from "../health/monitor.ts";
import type { LiveLimit } from "../limiter/admission.ts";
import type { Telemetry } from "../observe/telemetry.ts";
import type { Snapshot, Upstream } from "../registry/snapshot.ts";
import { SERVICE_TYPES, type ServiceType } from "../services.ts";

/** An admin action on live state. */
export type LiveAction =
  /** Closes every breaker, or the one of `instance`. */
  | { readonly kind: "reset-breakers"; readonly instance?: string }
  /** Refills every limiter, or those of the limit `policy`. */
  | { readonly kind: "reset-limiters"; readonly policy?: string }
  /** Zeroes the statistics, as of `at` (ms). */
  | { readonly kind: "reset-statistics"; readonly at: number }
  /** Makes these reads of every backend now. */
  | { readonly kind: "refresh"; readonly what: readonly BackendRead[] };

/** What the actions act on. */
export interface LiveActionTargets {
  readonly snapshot: () => Snapshot;
  readonly telemetry: Telemetry;
  readonly monitor: BackendMonitor;
  /** Clock, in ms. */
  readonly now: () => number;
}

/** Takes `action` here. */
export async function takeAction(action: LiveAction, targets: LiveActionTargets): Promise<void> {
  const snapshot = targets.snapshot();
  switch (action.kind) {
    case "reset-breakers":
      for (const { upstream } of breakered(snapshot)) {
        if (action.instance === undefined || upstream.id === action.instance) {
          upstream.breaker!.reset(targets.now());
        }
      }
      return;
    case "reset-limiters":
      for (const limit of liveLimits(snapshot)) {
        if (action.policy === undefined || limit.policy.id === action.policy) {
          limit.limiters.clear();
        }
      }
      return;
    case "reset-statistics":
      targets.telemetry.statistics.reset(snapshot, action.at);
      return;
    case "refresh":
      await targets.monitor.refresh(action.what);
      return;
  }
}

/** Every instance with a circuit breaker, once, with the first service it serves. */
export function breakered(snapshot: Snapshot): { type: ServiceType; upstream: Upstream }[] {
  const seen = new Set<string>();
  const found: { type: ServiceType; upstream: Upstream }[] = [];
  for (const type of SERVICE_TYPES) {
    for (const upstream of snapshot.services[type].upstreams) {
      if (!upstream.breaker || seen.has(upstream.id)) continue;
      seen.add(upstream.id);
      found.push({ type, upstream });
    }
  }
  return found;
}

/** Every live limit once, by policy. */
export function liveLimits(snapshot: Snapshot): LiveLimit[] {
  const byPolicy = new Map<string, LiveLimit>();
  for (const type of SERVICE_TYPES) {
    const service = snapshot.services[type];
    for (const limit of service.limits) byPolicy.set(limit.policy.id, limit);
    for (const upstream of service.upstreams) {
      for (const limit of upstream.limits) byPolicy.set(limit.policy.id, limit);
    }
  }
  return [...byPolicy.values()];
}

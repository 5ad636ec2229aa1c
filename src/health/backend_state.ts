/**
 * What the gateway knows about one backend server, shared by every instance that points at it
 * (the same adapter and base URL, whatever the service or path): its health from active
 * probes, the models it lists, and the load it reports.
 * @module
 */
import type { LoadReading } from "../adapters/types.ts";
import type { Capabilities } from "../config/schema.ts";

/** `unknown` until the first probe answers; an instance of an `unknown` backend is used. */
export type HealthStatus = "unknown" | "up" | "down";

/** Active health of a backend. */
export interface HealthState {
  status: HealthStatus;
  /** ISO time of the last status change, null while still `unknown`. */
  changedAt: string | null;
  /** Why the status last changed. */
  reason: string;
  /** What the latest failed probe met, null when the latest probe was good. */
  lastFailure: string | null;
  /** Probes in a row that failed, and that succeeded. */
  failures: number;
  successes: number;
  /** Clock time of the latest good probe, 0 before any. */
  lastOkAt: number;
}

/**
 * The load a backend last reported, with when it was read. A read that fails leaves it as it
 * was: it ages, and `least-load` trusts it less the older it is.
 */
export interface LoadState {
  readonly reading: LoadReading;
  /** The loaded model names, for fast lookup. */
  readonly loaded: ReadonlySet<string> | undefined;
  /** ISO time of the read. */
  readonly at: string;
  /** Clock time (ms) of the read. */
  readonly readAt: number;
}

/** Everything known about one backend. */
export interface BackendState {
  /** `adapter base-url`, the backend's identity. */
  readonly key: string;
  health: HealthState;
  /** Latest load reading, when the adapter can read one and a strategy asked for it. */
  load: LoadState | undefined;
  /** Models the backend listed at the last successful read; undefined before one. */
  models: readonly string[] | undefined;
  /** What its listed models can take, as it tells; undefined where it tells nothing. */
  capabilities: ReadonlyMap<string, Capabilities> | undefined;
  /** ISO time of the last model list read, and why it failed when it did. */
  modelsReadAt: string | null;
  modelsError: string | null;
}

/** A backend nobody has probed yet. */
export function newBackendState(key: string): BackendState {
  return {
    key,
    health: {
      status: "unknown",
      changedAt: null,
      reason: "not probed yet",
      lastFailure: null,
      failures: 0,
      successes: 0,
      lastOkAt: 0,
    },
    load: undefined,
    models: undefined,
    capabilities: undefined,
    modelsReadAt: null,
    modelsError: null,
  };
}

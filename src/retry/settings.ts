/**
 * A service's retry settings: its `retry` section over the global one, key by key; the count
 * defaults to `server.retries`.
 * @module
 */
import type { ModelConfig, ServerConfig, ServiceConfig } from "../config/schema.ts";
import type { ServiceType } from "../services.ts";

/** When and how a failed attempt is tried again. */
export interface RetrySettings {
  /** Further attempts after the first. */
  readonly count: number;
  /** Backoff before the first retry, doubling with each, in ms; full jitter applies. */
  readonly baseDelay: number;
  /** The longest backoff, in ms. */
  readonly maxDelay: number;
  /** Backend statuses that are retried; 429 only when it carries `Retry-After`. */
  readonly statuses: ReadonlySet<number>;
}

/** The statuses retried unless the config names others. */
export const DEFAULT_RETRY_STATUSES = [429, 500, 502, 503, 504] as const;

/** The retry settings of a service. */
export function retrySettings(
  model: ModelConfig,
  type: ServiceType,
  server: Pick<ServerConfig, "retries">,
): RetrySettings {
  const merged: NonNullable<ServiceConfig["retry"]> = {
    ...model.retry,
    ...model.services[type]?.retry,
  };
  return {
    count: merged.count ?? server.retries,
    baseDelay: merged["base-delay"] ?? 50,
    maxDelay: Math.max(merged["base-delay"] ?? 0, merged["max-delay"] ?? 1_000),
    statuses: new Set(merged.statuses ?? DEFAULT_RETRY_STATUSES),
  };
}

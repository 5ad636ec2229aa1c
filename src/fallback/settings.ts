/**
 * A service's fallback settings: its `fallback` section over the global one, key by key. A
 * section written is on unless it says `enabled: false`.
 * @module
 */
import type { ModelConfig, ServiceConfig } from "../config/schema.ts";
import type { ServiceType } from "../services.ts";

/** What answers when every instance of a model fails. */
export interface FallbackSettings {
  /**
   * `default`: a clear 503; `cache`: the last answer to the same request, else that 503;
   * undefined: the last backend error (or the gateway's 502/504) goes to the client as it is.
   */
  readonly strategy: "default" | "cache" | undefined;
  /** Answers cached per service. */
  readonly cacheSize: number;
  /** ms a cached answer stays usable. */
  readonly cacheTtl: number;
  /** Models tried in order before the strategy answers. */
  readonly models: readonly string[];
}

/** The fallback settings of a service. */
export function fallbackSettings(model: ModelConfig, type: ServiceType): FallbackSettings {
  const global = model.fallback;
  const own = model.services[type]?.fallback;
  const merged: NonNullable<ServiceConfig["fallback"]> = { ...global, ...own };
  const on = (global !== undefined || own !== undefined) && merged.enabled !== false;
  return {
    strategy: on ? merged.strategy ?? "default" : undefined,
    cacheSize: merged["cache-size"] ?? 100,
    cacheTtl: merged["cache-ttl"] ?? 300_000,
    models: on ? merged.models ?? [] : [],
  };
}

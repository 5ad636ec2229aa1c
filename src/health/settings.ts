/**
 * Health, outlier-detection and discovery settings with inheritance and defaults applied: a
 * service's section overrides the global one key by key.
 * @module
 */
import type { HealthCheckConfig, ModelConfig, OutlierDetectionConfig } from "../config/schema.ts";
import type { ServiceType } from "../services.ts";

/** Active probing of a backend. */
export interface HealthSettings {
  readonly enabled: boolean;
  readonly interval: number;
  readonly timeout: number;
  readonly unhealthyThreshold: number;
  readonly healthyThreshold: number;
}

/** Ejection of an instance that keeps failing real requests. */
export interface OutlierSettings {
  readonly enabled: boolean;
  readonly consecutiveFailures: number;
  readonly baseEjectionTime: number;
  readonly maxEjectionTime: number;
  /** Share (0–100) of a pool's instances that may be ejected at once; at least one, never all. */
  readonly maxEjectionPercent: number;
}

/** The health settings of a service. */
export function healthSettings(model: ModelConfig, type: ServiceType): HealthSettings {
  const merged: HealthCheckConfig = {
    ...model["health-check"],
    ...model.services[type]?.["health-check"],
  };
  return {
    enabled: merged.enabled ?? true,
    interval: merged.interval ?? 10_000,
    timeout: merged.timeout ?? 2_000,
    unhealthyThreshold: merged["unhealthy-threshold"] ?? 3,
    healthyThreshold: merged["healthy-threshold"] ?? 2,
  };
}

/** The outlier-detection settings of a service. */
export function outlierSettings(model: ModelConfig, type: ServiceType): OutlierSettings {
  const merged: OutlierDetectionConfig = {
    ...model["outlier-detection"],
    ...model.services[type]?.["outlier-detection"],
  };
  const base = merged["base-ejection-time"] ?? 30_000;
  return {
    enabled: merged.enabled ?? true,
    consecutiveFailures: merged["consecutive-failures"] ?? 5,
    baseEjectionTime: base,
    maxEjectionTime: Math.max(base, merged["max-ejection-time"] ?? 300_000),
    maxEjectionPercent: merged["max-ejection-percent"] ?? 10,
  };
}

/** Milliseconds between model list reads for `discover: true`. */
export function discoveryInterval(model: ModelConfig): number {
  return model.discovery?.interval ?? 30_000;
}

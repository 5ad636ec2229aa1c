/**
 * An instance's circuit-breaker settings: its own section over its service's over the global
 * one, key by key. There is a breaker once any of them is written and none says
 * `enabled: false`.
 * @module
 */
import type { InstanceConfig, ModelConfig } from "../config/schema.ts";
import type { ServiceType } from "../services.ts";
import type { BreakerSettings } from "./breaker.ts";

/** The breaker settings of an instance of a service, or undefined when it has no breaker. */
export function breakerSettings(
  model: ModelConfig,
  type: ServiceType,
  instance: InstanceConfig,
): BreakerSettings | undefined {
  const layers = [
    model["circuit-breaker"],
    model.services[type]?.["circuit-breaker"],
    instance["circuit-breaker"],
  ];
  if (layers.every((layer) => layer === undefined)) return undefined;
  const merged = Object.assign({}, ...layers) as NonNullable<InstanceConfig["circuit-breaker"]>;
  if (merged.enabled === false) return undefined;
  return {
    enabled: true,
    failureThreshold: merged.failureThreshold ?? 5,
    timeout: merged.timeout ?? 60_000,
    successThreshold: merged.successThreshold ?? 2,
    halfOpenMaxProbes: merged["half-open-max-probes"] ?? 1,
  };
}

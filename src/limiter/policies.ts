/**
 * Which limits a config writes, and what each one counts. Every `rate-limit` section written —
 * globally, for a service, for an instance — is its own limit; `client-ip-enable` adds a twin
 * that counts each client IP with the same settings. A request passes only when every limit
 * covering it has room.
 *
 * A limit's `scope` says what one limiter counts, within the level it is written at:
 *
 * | scope       | global level         | service level        | instance level         |
 * | ----------- | -------------------- | -------------------- | ---------------------- |
 * | `global`    | every request        | the service          | the instance           |
 * | `service`   | each service         | the service          | the instance           |
 * | `instance`  | each instance        | each instance        | the instance           |
 * | `client-ip` | each client IP       | each IP, per service | each IP, this instance |
 * | `api-key`   | each API key         | each key, per service| each key, this instance|
 *
 * Limits on instances are checked in selection: an instance over one is skipped and the next
 * candidate tried. The others are checked once per request, before it is read.
 * @module
 */
import type { ModelConfig, ServiceConfig } from "../config/schema.ts";
import type { ServiceType } from "../services.ts";
import type { LimiterSettings, LimitScope } from "./types.ts";
import type { TokenLimitPolicy } from "./token_limits.ts";

/** One limit as written, resolved. */
export interface RateLimitPolicy {
  /**
   * Stable identity: where it is written (`model`, `services.chat`, `instance:<id>`), with
   * `+client-ip` for the twin `client-ip-enable` adds. Limiter state is kept under it.
   */
  readonly id: string;
  readonly scope: LimitScope;
  readonly settings: LimiterSettings;
}

/** How a limit finds the limiter a request counts against. */
export type LimitKey =
  | { readonly by: "fixed"; readonly key: string }
  | { readonly by: "client-ip" }
  | { readonly by: "api-key" };

/** A limit and the key a request meets it with. */
export interface PlacedLimit {
  readonly policy: RateLimitPolicy;
  readonly key: LimitKey;
}

type RateLimitConfig = NonNullable<ServiceConfig["rate-limit"]>;

/** The limits checked once per request of a service. */
export function requestLimits(model: ModelConfig, type: ServiceType): PlacedLimit[] {
  const placed: PlacedLimit[] = [];
  for (const policy of policiesOf("model", model["rate-limit"], "global")) {
    if (policy.scope === "instance") continue;
    placed.push({ policy, key: keyOf(policy.scope, type) });
  }
  for (
    const policy of policiesOf(`services.${type}`, model.services[type]?.["rate-limit"], "service")
  ) {
    if (policy.scope === "instance") continue;
    placed.push({ policy, key: keyOf(policy.scope, "*") });
  }
  return placed;
}

/** A token limit and the key a request meets it with. */
export interface PlacedTokenLimit {
  readonly policy: TokenLimitPolicy;
  readonly key: LimitKey;
}

/**
 * The token limits a request of a service reserves its tokens in: the `tokens-per-minute` of
 * the model's and the service's `rate-limit` sections, placed as their request limits are.
 */
export function requestTokenLimits(model: ModelConfig, type: ServiceType): PlacedTokenLimit[] {
  return [
    ...tokenPoliciesOf("model", model["rate-limit"], "global")
      .filter((policy) => policy.scope !== "instance")
      .map((policy) => ({ policy, key: keyOf(policy.scope, type) })),
    ...tokenPoliciesOf(`services.${type}`, model.services[type]?.["rate-limit"], "service")
      .filter((policy) => policy.scope !== "instance")
      .map((policy) => ({ policy, key: keyOf(policy.scope, "*") })),
  ];
}

/**
 * The token limits an instance of a service is checked against in selection, and reserves in
 * when it is claimed: `scope: instance` at the model's and the service's level, and its own.
 */
export function instanceTokenLimits(
  model: ModelConfig,
  type: ServiceType,
  instance: { readonly id: string; readonly config: RateLimitConfig | undefined },
): PlacedTokenLimit[] {
  return placedAtInstance(model, type, instance, tokenPoliciesOf);
}

/**
 * The token policies a `rate-limit` section writes: none without `tokens-per-minute`, two with
 * its IP twin. Ids end in `#tokens`.
 */
export function tokenPoliciesOf(
  id: string,
  config: RateLimitConfig | undefined,
  level: LimitScope,
): TokenLimitPolicy[] {
  const perMinute = config?.["tokens-per-minute"];
  if (!config?.enabled || perMinute === undefined) return [];
  const settings = { perMinute, counts: config["token-type"] ?? "total" };
  const scope = config.scope ?? level;
  // Written on an instance, `global` and `service` can only mean that instance.
  const policy = {
    id: `${id}#tokens`,
    scope: level === "instance" && !perClient(scope) ? "instance" : scope,
    settings,
  };
  if (!config["client-ip-enable"] || scope === "client-ip") return [policy];
  return [policy, { id: `${id}+client-ip#tokens`, scope: "client-ip", settings }];
}

/** The limits an instance of a service is checked against in selection. */
export function instanceLimits(
  model: ModelConfig,
  type: ServiceType,
  instance: { readonly id: string; readonly config: RateLimitConfig | undefined },
): PlacedLimit[] {
  return placedAtInstance(model, type, instance, policiesOf);
}

/**
 * The policies `policiesFor` reads that an instance meets: `scope: instance` at the model's and
 * the service's level, each keyed by the instance, and those of its own section.
 */
function placedAtInstance<P extends { readonly scope: LimitScope }>(
  model: ModelConfig,
  type: ServiceType,
  instance: { readonly id: string; readonly config: RateLimitConfig | undefined },
  policiesFor: (id: string, config: RateLimitConfig | undefined, level: LimitScope) => P[],
): { readonly policy: P; readonly key: LimitKey }[] {
  const placed: { policy: P; key: LimitKey }[] = [];
  const levels = [
    policiesFor("model", model["rate-limit"], "global"),
    policiesFor(`services.${type}`, model.services[type]?.["rate-limit"], "service"),
  ];
  for (const policies of levels) {
    for (const policy of policies) {
      if (policy.scope === "instance") {
        placed.push({ policy, key: { by: "fixed", key: instance.id } });
      }
    }
  }
  for (const policy of policiesFor(`instance:${instance.id}`, instance.config, "instance")) {
    placed.push({ policy, key: keyOf(policy.scope, "*") });
  }
  return placed;
}

/** The policies one `rate-limit` section writes: none when disabled, two with its IP twin. */
function policiesOf(
  id: string,
  config: RateLimitConfig | undefined,
  level: LimitScope,
): RateLimitPolicy[] {
  // A section with tokens-per-minute and no capacity limits tokens only.
  if (!config?.enabled || config.capacity === undefined) return [];
  const settings = limiterSettings(config);
  const scope = config.scope ?? level;
  // Written on an instance, `global` and `service` can only mean that instance.
  const policy = {
    id,
    scope: level === "instance" && !perClient(scope) ? "instance" : scope,
    settings,
  };
  if (!config["client-ip-enable"] || scope === "client-ip") return [policy];
  return [policy, { id: `${id}+client-ip`, scope: "client-ip", settings }];
}

function perClient(scope: LimitScope): boolean {
  return scope === "client-ip" || scope === "api-key";
}

function keyOf(scope: LimitScope, fixed: string): LimitKey {
  if (scope === "client-ip") return { by: "client-ip" };
  if (scope === "api-key") return { by: "api-key" };
  return { by: "fixed", key: scope === "global" ? "*" : fixed };
}

/** A section's limiter settings; validation guarantees capacity, and rate where it is needed. */
export function limiterSettings(config: RateLimitConfig): LimiterSettings {
  return {
    algorithm: config.algorithm,
    capacity: config.capacity ?? 1,
    rate: config.rate ?? (config.capacity ?? 1) * 1000 / config.window,
    window: config.window,
    warmUpPeriod: config["warm-up-period"],
    coldFactor: config["cold-factor"],
  };
}

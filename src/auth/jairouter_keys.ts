/**
 * A client key written with JAiRouter's settings (`dailyRequestLimit`, `dailyTokenLimit`,
 * `rateLimitPerMinute`, `allowedIpAddresses`, `expiresAt`), as the key of ours they stand for.
 * @module
 */
import { type ApiKeyConfig, RateLimitSchema } from "../config/schema.ts";

/** `key` with JAiRouter's settings moved to ours; validation refused a key with both. */
export function withJaiRouterNames(key: ApiKeyConfig): ApiKeyConfig {
  const {
    dailyRequestLimit,
    dailyTokenLimit,
    rateLimitPerMinute,
    allowedIpAddresses,
    expiresAt,
    ...ours
  } = key;
  const budget = dailyRequestLimit === undefined && dailyTokenLimit === undefined ? ours.budget : {
    ...ours.budget,
    ...(dailyRequestLimit === undefined ? {} : { "requests-per-day": dailyRequestLimit }),
    ...(dailyTokenLimit === undefined ? {} : { "tokens-per-day": dailyTokenLimit }),
  };
  return {
    ...ours,
    ...(budget === undefined ? {} : { budget }),
    ...(rateLimitPerMinute === undefined ? {} : {
      "rate-limit": RateLimitSchema.parse({
        algorithm: "sliding-window",
        capacity: rateLimitPerMinute,
        window: 60_000,
      }),
    }),
    ...(allowedIpAddresses === undefined ? {} : { "allowed-ips": allowedIpAddresses }),
    ...(expiresAt === undefined ? {} : { expires: expiresAt }),
  };
}

/**
 * The rate-limit response headers: OpenAI's `x-ratelimit-*-requests` and `-tokens`, the IETF draft's
 * `RateLimit` and `RateLimit-Policy`, and `Retry-After` on a refusal.
 * @module
 */
import { retryAfterSeconds } from "../retry/retry_after.ts";
import type { Metered } from "./admission.ts";
import type { MeteredTokens } from "./token_limits.ts";

/** Headers telling the client its budget under the limit that binds it most. */
export function rateLimitHeaders({ policy, decision }: Metered): Record<string, string> {
  const { capacity, algorithm, rate, window } = policy.settings;
  const windowSeconds = Math.max(
    1,
    Math.ceil(algorithm === "sliding-window" ? window / 1000 : capacity / rate),
  );
  const name = `"${policy.scope}"`;
  const headers: Record<string, string> = {
    "x-ratelimit-limit-requests": String(capacity),
    "x-ratelimit-remaining-requests": String(decision.remaining),
    "x-ratelimit-reset-requests": goDuration(decision.reset),
    "ratelimit-policy": `${name};q=${capacity};w=${windowSeconds}`,
    "ratelimit": `${name};r=${decision.remaining};t=${Math.ceil(decision.reset / 1000)}`,
  };
  if (!decision.allowed) headers["retry-after"] = retryAfterSeconds(decision.retryAfter);
  return headers;
}

/** OpenAI's `x-ratelimit-*-tokens` headers for the token limit that binds a client most. */
export function tokenLimitHeaders({ policy, decision }: MeteredTokens): Record<string, string> {
  const headers: Record<string, string> = {
    "x-ratelimit-limit-tokens": String(policy.settings.perMinute),
    "x-ratelimit-remaining-tokens": String(decision.remaining),
    "x-ratelimit-reset-tokens": goDuration(decision.reset),
  };
  if (!decision.allowed) headers["retry-after"] = retryAfterSeconds(decision.retryAfter);
  return headers;
}

/** A duration as OpenAI writes it: `20ms`, `1.5s`, `6m0s`, `1h2m3s`. */
export function goDuration(ms: number): string {
  const rounded = Math.max(0, Math.round(ms));
  if (rounded < 1000) return `${rounded}ms`;
  const hours = Math.floor(rounded / 3_600_000);
  const minutes = Math.floor((rounded % 3_600_000) / 60_000);
  const seconds = (rounded % 60_000) / 1000;
  const secondsText = `${Number(seconds.toFixed(3))}s`;
  if (hours > 0) return `${hours}h${minutes}m${secondsText}`;
  if (minutes > 0) return `${minutes}m${secondsText}`;
  return secondsText;
}

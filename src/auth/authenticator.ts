/**
 * Who a client is, when the `auth:` section asks: an API key (from the config or created
 * through the admin API) or a JWT, presented as `Authorization: Bearer …` or `X-API-Key`.
 * Keys are looked up by digest and compared in constant time; nothing a client sends is
 * logged or repeated back, only a key's id.
 * @module
 */
import type { ApiKeyConfig, AuthConfig } from "../config/schema.ts";
import { RateLimitSchema } from "../config/schema.ts";
import { GatewayError } from "../errors.ts";
import { globToRegExp } from "../lib/glob.ts";
import type { LiveLimit } from "../limiter/admission.ts";
import { limiterSettings, tokenPoliciesOf } from "../limiter/policies.ts";
import type { LiveTokenLimit } from "../limiter/token_limits.ts";
import { RateLimits } from "../limiter/rate_limits.ts";
import type { StoredApiKey } from "../store/mod.ts";
import { type JwtFetch, JwtVerifier } from "./jwt.ts";
import { jwtSettingsOf } from "./jwt_settings.ts";
import { digestOf, presentedCredential, sameDigest, writtenDigest } from "./secret.ts";
import type { PriorityGrant } from "../queue/priority.ts";

/** An authenticated client. */
export interface ClientIdentity extends PriorityGrant {
  /** The key's id, or `jwt:<subject>`. */
  readonly id: string;
  /** Whether it may use a model. */
  allows(model: string): boolean;
  /**
   * The limits a request of this client meets: its own, if it has one, and `service`'s. Joined
   * once per service snapshot, not per request.
   */
  limitsWith(service: readonly LiveLimit[]): readonly LiveLimit[];
  /** The token limits a request of this client reserves in: its own, and `service`'s. */
  tokenLimitsWith(service: readonly LiveTokenLimit[]): readonly LiveTokenLimit[];
}

/** What {@linkcode Authenticator.authenticate} answers. */
export type AuthResult =
  | { readonly ok: true; readonly identity: ClientIdentity }
  | { readonly ok: false; readonly error: GatewayError };

interface KnownKey {
  readonly id: string;
  readonly digest: string;
  readonly expires: number;
  readonly enabled: boolean;
  readonly identity: ClientIdentity;
}

/** Options for {@linkcode Authenticator}. */
export interface AuthenticatorOptions {
  /** Clock, in ms. @default Date.now */
  readonly now?: () => number;
  /** Fetches a JWKS. @default fetch */
  readonly fetch?: JwtFetch;
}

const EVERY_MODEL = () => true;

/** Checks client credentials against the configured and stored keys, and JWTs. */
export class Authenticator {
  readonly #config: AuthConfig;
  readonly #now: () => number;
  readonly #jwt: JwtVerifier | undefined;
  readonly #limits = new RateLimits();
  /** The ids of the keys written in the config, which stored keys may not take. */
  readonly configuredIds: ReadonlySet<string>;
  #byDigest = new Map<string, KnownKey>();

  constructor(config: AuthConfig, options: AuthenticatorOptions = {}) {
    this.#config = config;
    this.configuredIds = new Set(config.keys.map((key) => key.id));
    this.#now = options.now ?? Date.now;
    const jwt = config.jwt;
    this.#jwt = jwt === undefined ? undefined : new JwtVerifier(jwtSettingsOf(jwt), {
      ...(options.fetch ? { fetch: options.fetch } : {}),
      now: this.#now,
    });
    this.useStoredKeys([]);
  }

  /** Whether clients must authenticate. */
  get enabled(): boolean {
    return this.#config.enabled;
  }

  /** The keys written in the config. */
  get configuredKeys(): readonly ApiKeyConfig[] {
    return this.#config.keys;
  }

  /** Installs the keys created through the admin API, next to the configured ones. */
  useStoredKeys(stored: readonly StoredApiKey[]): void {
    const byDigest = new Map<string, KnownKey>();
    const policies = new Set<string>();
    const add = (key: ApiKeyConfig, digest: string) => {
      const limits = this.#keyLimits(key);
      const tokenLimits = this.#keyTokenLimits(key);
      for (const limit of [...limits, ...tokenLimits]) policies.add(limit.policy.id);
      byDigest.set(digest, {
        id: key.id,
        digest,
        expires: key.expires === undefined ? Infinity : Date.parse(key.expires),
        enabled: key.enabled,
        identity: identityOf(key, modelMatcher(key.models), limits, tokenLimits),
      });
    };
    for (const key of this.#config.keys) add(key, writtenDigest(key.key));
    for (const key of stored) {
      if (this.configuredIds.has(key.id)) continue;
      const rateLimit = key["rate-limit"] === undefined
        ? undefined
        : RateLimitSchema.safeParse(key["rate-limit"]);
      add({
        id: key.id,
        key: "",
        enabled: key.enabled,
        ...(key.models ? { models: [...key.models] } : {}),
        ...(key.expires ? { expires: key.expires } : {}),
        ...(rateLimit?.success ? { "rate-limit": rateLimit.data } : {}),
        priority: key.priority ?? "normal",
        "priority-header": key["priority-header"] ?? false,
      }, key.digest);
    }
    this.#limits.retain(policies);
    this.#byDigest = byDigest;
  }

  /** Authenticates a request from its headers. */
  async authenticate(headers: Headers): Promise<AuthResult> {
    const credential = presentedCredential(headers);
    if (credential === undefined) {
      return refused(
        401,
        "invalid_api_key",
        "Missing API key: send it as Authorization: Bearer <key> or X-API-Key: <key>",
      );
    }
    if (this.#jwt && JwtVerifier.looksLikeJwt(credential)) return await this.#verifyJwt(credential);
    const digest = digestOf(credential);
    const known = this.#byDigest.get(digest);
    if (!known || !sameDigest(known.digest, digest)) {
      return refused(401, "invalid_api_key", "Invalid API key");
    }
    if (!known.enabled) {
      return refused(401, "invalid_api_key", `The API key "${known.id}" is disabled`);
    }
    if (known.expires <= this.#now()) {
      return refused(401, "invalid_api_key", `The API key "${known.id}" has expired`);
    }
    return { ok: true, identity: known.identity };
  }

  async #verifyJwt(token: string): Promise<AuthResult> {
    const result = await this.#jwt!.verify(token);
    if (!result.ok) return refused(401, "invalid_api_key", `Invalid token: ${result.reason}`);
    const subject = typeof result.claims.sub === "string" ? result.claims.sub : "unknown";
    const claim = this.#config.jwt?.["models-claim"];
    const listed = claim === undefined ? undefined : result.claims[claim];
    const models = typeof listed === "string"
      ? listed.split(/\s+/).filter(Boolean)
      : Array.isArray(listed)
      ? listed.filter((model): model is string => typeof model === "string")
      : claim === undefined
      ? undefined
      : [];
    return {
      ok: true,
      identity: identityOf(
        { id: `jwt:${subject}`, priority: "normal", "priority-header": false },
        modelMatcher(models),
        [],
        [],
      ),
    };
  }

  #keyTokenLimits(key: ApiKeyConfig): LiveTokenLimit[] {
    return tokenPoliciesOf(`api-key:${key.id}`, key["rate-limit"], "api-key").map((policy) => ({
      // Written on a key, every scope but client-ip can only mean that key.
      policy: policy.scope === "client-ip" ? policy : { ...policy, scope: "api-key" },
      key: policy.scope === "client-ip" ? { by: "client-ip" } : { by: "fixed", key: key.id },
      budgets: this.#limits.budgetsFor(policy),
    }));
  }

  #keyLimits(key: ApiKeyConfig): LiveLimit[] {
    const limit = key["rate-limit"];
    if (!limit?.enabled || limit.capacity === undefined) return [];
    const policy = {
      id: `api-key:${key.id}`,
      scope: "api-key" as const,
      settings: limiterSettings(limit),
    };
    return [{
      policy,
      key: { by: "fixed", key: key.id },
      limiters: this.#limits.limitersFor(policy),
    }];
  }
}

function identityOf(
  key: Pick<ApiKeyConfig, "id" | "priority" | "priority-header">,
  allows: (model: string) => boolean,
  own: readonly LiveLimit[],
  ownTokens: readonly LiveTokenLimit[],
): ClientIdentity {
  const joined = new WeakMap<readonly LiveLimit[], readonly LiveLimit[]>();
  const joinedTokens = new WeakMap<readonly LiveTokenLimit[], readonly LiveTokenLimit[]>();
  return {
    id: key.id,
    priority: key.priority,
    priorityHeader: key["priority-header"],
    allows,
    limitsWith(service) {
      if (own.length === 0) return service;
      let limits = joined.get(service);
      if (limits === undefined) joined.set(service, limits = [...own, ...service]);
      return limits;
    },
    tokenLimitsWith(service) {
      if (ownTokens.length === 0) return service;
      let limits = joinedTokens.get(service);
      if (limits === undefined) joinedTokens.set(service, limits = [...ownTokens, ...service]);
      return limits;
    },
  };
}

/** The refusal a client gets when `identity` may not use `model`. */
export function modelRefusal(identity: ClientIdentity, model: string): GatewayError {
  return new GatewayError(
    403,
    "permission_denied",
    `The credential "${identity.id}" may not use the model "${model}"`,
    { param: "model" },
  );
}

function refused(status: 401, code: string, message: string): AuthResult {
  return { ok: false, error: new GatewayError(status, code, message) };
}

function modelMatcher(models: readonly string[] | undefined): (model: string) => boolean {
  if (models === undefined) return EVERY_MODEL;
  const exact = new Set(models.filter((model) => !model.includes("*")));
  const patterns = models.filter((model) => model.includes("*")).map(globToRegExp);
  return (model) => exact.has(model) || patterns.some((pattern) => pattern.test(model));
}

/**
 * Who a client is, when the `auth:` section asks: an API key (from the config or created
 * through the admin API) or a JWT, presented as `Authorization: Bearer …` or `X-API-Key`.
 * Keys are looked up by digest and compared in constant time; nothing a client sends is
 * logged or repeated back, only a key's id.
 * @module
 */
import type { ApiKeyConfig, AuthConfig, TeamConfig } from "../config/schema.ts";
import { RateLimitSchema, TeamSchema } from "../config/schema.ts";
import { GatewayError } from "../errors.ts";
import { globToRegExp } from "../lib/glob.ts";
import type { LiveLimit } from "../limiter/admission.ts";
import { limiterSettings, tokenPoliciesOf } from "../limiter/policies.ts";
import type { LiveTokenLimit } from "../limiter/token_limits.ts";
import { RateLimits } from "../limiter/rate_limits.ts";
import type { StoredApiKey, StoredTeam } from "../store/mod.ts";
import { type JwtFetch, JwtVerifier } from "./jwt.ts";
import { withJaiRouterNames } from "./jairouter_keys.ts";
import { jwtSettingsOf } from "./jwt_settings.ts";
import { digestOf, presentedCredential, sameDigest, writtenDigest } from "./secret.ts";
import type { PriorityGrant } from "../queue/priority.ts";
import { CidrSet } from "../net/cidr.ts";
import type { Budget } from "../budget/budgets.ts";
import { ClientConcurrency, ConcurrencyCap } from "../limiter/client_concurrency.ts";

/** An authenticated client. */
export interface ClientIdentity extends PriorityGrant {
  /** The key's id, or `jwt:<subject>`. */
  readonly id: string;
  /** The team of its key, if it has one. */
  readonly team?: string | undefined;
  /** What its use counts under: `key:<id>`, and `team:<id>` in a team. */
  readonly subjects: readonly string[];
  /** The budgets a request of it must fit: its key's and its team's. */
  readonly budgets: readonly Budget[];
  /** The caps on its requests in flight (its key's, its team's); undefined when it has none. */
  readonly concurrency: ClientConcurrency | undefined;
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
  /** Where the key may be used from; anywhere when undefined. */
  readonly allowedFrom: CidrSet | undefined;
  /** Its team; a key whose team is gone or disabled is refused. */
  readonly team: { readonly id: string; readonly state: Team | undefined } | undefined;
  readonly identity: ClientIdentity;
}

/** A team as keys meet it: its models, its shared limit, its class. */
interface Team {
  readonly config: TeamConfig;
  readonly allows: (model: string) => boolean;
  readonly limits: readonly LiveLimit[];
  readonly tokenLimits: readonly LiveTokenLimit[];
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

  /** The request and token limits of keys and teams, to share with other gateways. */
  get limits(): RateLimits {
    return this.#limits;
  }
  /**
   * The live caps on requests in flight, by `key:<id>` and `team:<id>`: kept across rebuilds of
   * the keys, so requests in flight still count after a reload.
   */
  readonly #caps = new Map<string, ConcurrencyCap>();
  /** The ids of the keys written in the config, which stored keys may not take. */
  readonly configuredIds: ReadonlySet<string>;
  /** The ids of the teams written in the config, which stored teams may not take. */
  readonly configuredTeamIds: ReadonlySet<string>;
  #byDigest = new Map<string, KnownKey>();
  /** The team of each key in one, by key id. */
  #keyTeams = new Map<string, string>();
  /**
   * Every team, of the config and of the store, with its cap on requests in flight for tokens
   * that name it.
   */
  #teams = new Map<
    string,
    { readonly team: Team; readonly concurrency: ClientConcurrency | undefined }
  >();

  constructor(config: AuthConfig, options: AuthenticatorOptions = {}) {
    this.#config = config;
    this.configuredIds = new Set(config.keys.map((key) => key.id));
    this.configuredTeamIds = new Set(config.teams.map((team) => team.id));
    this.#now = options.now ?? Date.now;
    const jwt = config.jwt;
    this.#jwt = jwt === undefined ? undefined : new JwtVerifier(jwtSettingsOf(jwt), {
      ...(options.fetch ? { fetch: options.fetch } : {}),
      now: this.#now,
    });
    this.useStored([], []);
  }

  /** Whether clients must authenticate. */
  get enabled(): boolean {
    return this.#config.enabled;
  }

  /** The team `id`, of the config or made through the admin API, if there is one. */
  team(id: string): TeamConfig | undefined {
    return this.#teams.get(id)?.team.config;
  }

  /** Every team: the config's, then those made through the admin API. */
  get teams(): readonly TeamConfig[] {
    return [...this.#teams.values()].map(({ team }) => team.config);
  }

  /** The keys written in the config. */
  get configuredKeys(): readonly ApiKeyConfig[] {
    return this.#config.keys;
  }

  /** Installs the keys and teams created through the admin API, next to the configured ones. */
  useStored(stored: readonly StoredApiKey[], storedTeams: readonly StoredTeam[]): void {
    const byDigest = new Map<string, KnownKey>();
    const keyTeams = new Map<string, string>();
    const policies = new Set<string>();
    const teamConfigs = new Map(this.#config.teams.map((team) => [team.id, team]));
    for (const { created: _, by: __, ...written } of storedTeams) {
      if (teamConfigs.has(written.id)) continue;
      const team = TeamSchema.safeParse(written);
      if (team.success) teamConfigs.set(team.data.id, team.data);
    }
    const teams = new Map([...teamConfigs].map(([id, team]) => [id, this.#team(team)]));
    for (const team of teams.values()) {
      for (const limit of [...team.limits, ...team.tokenLimits]) policies.add(limit.policy.id);
    }
    const caps = new Set<string>();
    const capOf = (subject: string, limit: number | undefined) => {
      if (limit === undefined) return [];
      caps.add(subject);
      let cap = this.#caps.get(subject);
      if (cap === undefined) this.#caps.set(subject, cap = new ConcurrencyCap(limit));
      cap.limit = limit;
      return [cap];
    };
    const add = (key: ApiKeyConfig, digest: string) => {
      const team = key.team === undefined ? undefined : teams.get(key.team);
      const limits = [...this.#keyLimits(key), ...team?.limits ?? []];
      const tokenLimits = [...this.#keyTokenLimits(key), ...team?.tokenLimits ?? []];
      const concurrency = [
        ...capOf(`key:${key.id}`, key["max-concurrency"]),
        ...capOf(`team:${key.team}`, team?.config["max-concurrency"]),
      ];
      for (const limit of [...limits, ...tokenLimits]) policies.add(limit.policy.id);
      const own = modelMatcher(key.models);
      if (key.team !== undefined) keyTeams.set(key.id, key.team);
      byDigest.set(digest, {
        id: key.id,
        digest,
        expires: key.expires === undefined ? Infinity : Date.parse(key.expires),
        enabled: key.enabled,
        allowedFrom: key["allowed-ips"] ? new CidrSet(key["allowed-ips"]) : undefined,
        team: key.team === undefined ? undefined : { id: key.team, state: team },
        identity: identityOf(
          key,
          team ? (model) => team.allows(model) && own(model) : own,
          limits,
          tokenLimits,
          concurrency.length === 0 ? undefined : new ClientConcurrency(concurrency),
          team?.config,
        ),
      });
    };
    const teamClaim = this.#config.jwt?.["team-claim"] !== undefined;
    this.#teams = new Map(
      [...teams].map(([id, team]) => {
        const cap = teamClaim ? capOf(`team:${id}`, team.config["max-concurrency"]) : [];
        return [id, {
          team,
          concurrency: cap.length === 0 ? undefined : new ClientConcurrency(cap),
        }];
      }),
    );
    for (const key of this.#config.keys) add(withJaiRouterNames(key), writtenDigest(key.key));
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
        ...(key["allowed-ips"] ? { "allowed-ips": [...key["allowed-ips"]] } : {}),
        ...(rateLimit?.success ? { "rate-limit": rateLimit.data } : {}),
        ...(key.team ? { team: key.team } : {}),
        ...(key.budget ? { budget: key.budget } : {}),
        ...(key["max-concurrency"] ? { "max-concurrency": key["max-concurrency"] } : {}),
        ...(key.priority ? { priority: key.priority } : {}),
        "priority-header": key["priority-header"] ?? false,
      }, key.digest);
    }
    this.#limits.retain(policies);
    // A cap no key uses any more goes once nothing counts under it.
    for (const [subject, cap] of this.#caps) {
      if (!caps.has(subject) && cap.active === 0) this.#caps.delete(subject);
    }
    this.#byDigest = byDigest;
    this.#keyTeams = keyTeams;
  }

  /** The team the key `id` (of the config or the store) is in now, if any. */
  teamOfKey(id: string): string | undefined {
    return this.#keyTeams.get(id);
  }

  /** Authenticates a request from its headers, coming from the client address `clientIp`. */
  async authenticate(headers: Headers, clientIp: string): Promise<AuthResult> {
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
    if (known.team && !known.team.state) {
      return refused(
        401,
        "invalid_api_key",
        `The team "${known.team.id}" of the API key "${known.id}" no longer exists`,
      );
    }
    if (known.team?.state && !known.team.state.config.enabled) {
      return refused(
        401,
        "invalid_api_key",
        `The team "${known.team.id}" of the API key "${known.id}" is disabled`,
      );
    }
    if (known.allowedFrom && !known.allowedFrom.has(clientIp)) {
      return refused(
        403,
        "ip_not_allowed",
        `The API key "${known.id}" may not be used from ${clientIp}`,
      );
    }
    return { ok: true, identity: known.identity };
  }

  async #verifyJwt(token: string): Promise<AuthResult> {
    const result = await this.#jwt!.verify(token);
    if (!result.ok) return refused(401, "invalid_api_key", `Invalid token: ${result.reason}`);
    const subject = typeof result.claims.sub === "string" ? result.claims.sub : "unknown";
    const teamClaim = this.#config.jwt?.["team-claim"];
    const teamId = teamClaim === undefined ? undefined : result.claims[teamClaim];
    if (teamId !== undefined && typeof teamId !== "string") {
      return refused(401, "invalid_api_key", `The token's "${teamClaim}" claim must name a team`);
    }
    const team = teamId === undefined ? undefined : this.#teams.get(teamId);
    if (teamId !== undefined && team === undefined) {
      return refused(401, "invalid_api_key", `The team "${teamId}" of the token does not exist`);
    }
    if (team && !team.team.config.enabled) {
      return refused(401, "invalid_api_key", `The team "${teamId}" of the token is disabled`);
    }
    const claim = this.#config.jwt?.["models-claim"];
    const listed = claim === undefined ? undefined : result.claims[claim];
    const models = typeof listed === "string"
      ? listed.split(/\s+/).filter(Boolean)
      : Array.isArray(listed)
      ? listed.filter((model): model is string => typeof model === "string")
      : claim === undefined
      ? undefined
      : [];
    const own = modelMatcher(models);
    const config = team?.team.config;
    return {
      ok: true,
      identity: identityOf(
        {
          id: `jwt:${subject}`,
          ...(config ? { team: config.id } : {}),
          "priority-header": config?.["priority-header"] ?? false,
        },
        team ? (model) => team.team.allows(model) && own(model) : own,
        team?.team.limits ?? [],
        team?.team.tokenLimits ?? [],
        team?.concurrency,
        config,
      ),
    };
  }

  /** A team with its model matcher and its limit, shared by its keys. */
  #team(config: TeamConfig): Team {
    const limit = config["rate-limit"];
    // A section with tokens-per-minute and no capacity limits tokens only.
    const policy = limit?.enabled && limit.capacity !== undefined
      ? { id: `team:${config.id}`, scope: "team" as const, settings: limiterSettings(limit) }
      : undefined;
    return {
      config,
      allows: modelMatcher(config.models),
      // Written on a team, every scope but client-ip can only mean that team.
      tokenLimits: tokenPoliciesOf(`team:${config.id}`, limit, "team").map((tokens) => ({
        policy: tokens.scope === "client-ip" ? tokens : { ...tokens, scope: "team" as const },
        key: tokens.scope === "client-ip" ? { by: "client-ip" } : { by: "fixed", key: config.id },
        budgets: this.#limits.budgetsFor(tokens),
      })),
      limits: policy
        ? [{
          policy,
          key: { by: "fixed", key: config.id },
          limiters: this.#limits.limitersFor(policy),
        }]
        : [],
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
  key: Pick<ApiKeyConfig, "id" | "priority" | "priority-header" | "team" | "budget">,
  allows: (model: string) => boolean,
  own: readonly LiveLimit[],
  ownTokens: readonly LiveTokenLimit[],
  concurrency: ClientConcurrency | undefined,
  team?: TeamConfig,
): ClientIdentity {
  const joined = new WeakMap<readonly LiveLimit[], readonly LiveLimit[]>();
  const joinedTokens = new WeakMap<readonly LiveTokenLimit[], readonly LiveTokenLimit[]>();
  const subjects = [`key:${key.id}`, ...(team ? [`team:${team.id}`] : [])];
  const budgets: Budget[] = [
    ...(key.budget
      ? [{ subject: subjects[0]!, name: `the API key "${key.id}"`, limits: key.budget }]
      : []),
    ...(team?.budget
      ? [{ subject: `team:${team.id}`, name: `the team "${team.id}"`, limits: team.budget }]
      : []),
  ];
  return {
    id: key.id,
    team: key.team,
    subjects,
    budgets,
    concurrency,
    priority: key.priority ?? team?.priority ?? "normal",
    // In a team, the header may choose a class up to the team's, and only when the team allows.
    priorityHeader: key["priority-header"] && (team === undefined || team["priority-header"]),
    ceiling: team?.priority,
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

function refused(status: 401 | 403, code: string, message: string): AuthResult {
  return { ok: false, error: new GatewayError(status, code, message) };
}

function modelMatcher(models: readonly string[] | undefined): (model: string) => boolean {
  if (models === undefined) return EVERY_MODEL;
  const exact = new Set(models.filter((model) => !model.includes("*")));
  const patterns = models.filter((model) => model.includes("*")).map(globToRegExp);
  return (model) => exact.has(model) || patterns.some((pattern) => pattern.test(model));
}

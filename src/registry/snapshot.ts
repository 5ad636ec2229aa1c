/**
 * An immutable runtime view of the `model:` config: for each service, its upstreams grouped
 * into model pools, each pool with its strategy already built. Requests read a snapshot; a
 * config change builds a new one, and live state carries over by instance id.
 * @module
 */
import { adapterFor, type AdapterName } from "../adapters/mod.ts";
import type { Translation } from "../proxy/exchange.ts";
import { MESSAGES_TO_CHAT, NO_TOKEN_COUNT } from "../translate/messages/exchange.ts";
import { responsesOverChat } from "../translate/responses/exchange.ts";
import { type NativeEndpoint, nativeEndpointOf } from "../adapters/ollama_native/mod.ts";
import type { CircuitBreaker } from "../breaker/breaker.ts";
import { breakerSettings } from "../breaker/settings.ts";
import type { ResponseCache } from "../fallback/response_cache.ts";
import { type FallbackSettings, fallbackSettings } from "../fallback/settings.ts";
import type { LiveLimit } from "../limiter/admission.ts";
import {
  type AdaptiveConcurrency,
  type ConcurrencyBounds,
  DEFAULT_BOUNDS,
} from "../limiter/adaptive_concurrency.ts";
import {
  instanceLimits,
  instanceTokenLimits,
  requestLimits,
  requestTokenLimits,
} from "../limiter/policies.ts";
import type { LiveTokenLimit } from "../limiter/token_limits.ts";
import type { WaitQueue } from "../queue/wait_queue.ts";
import { type RetrySettings, retrySettings } from "../retry/settings.ts";
import { STRATEGIES, type Strategy, type StrategyName } from "../balancer/mod.ts";
import type { Price } from "../balancer/price.ts";
import type {
  Capabilities,
  InstanceConfig,
  InstanceStatus,
  LoadBalanceConfig,
  ModelConfig,
  ModelGroupsConfig,
  ServiceConfig,
} from "../config/schema.ts";
import type { BackendState } from "../health/backend_state.ts";
import type { MonitoredBackend } from "../health/monitor.ts";
import {
  discoveryInterval,
  type HealthSettings,
  healthSettings,
  type OutlierSettings,
  outlierSettings,
} from "../health/settings.ts";
import { numberDuplicates } from "../config/instance_identity.ts";
import { poolCapabilities } from "./pool_capabilities.ts";
import { globToRegExp } from "../lib/glob.ts";
import type { AddressCheck } from "../net/address_policy.ts";
import type { Http1Target } from "../transport/http1/client.ts";
import { transportTarget } from "../transport/target.ts";
import { SERVICE_TYPES, type ServiceType } from "../services.ts";
import type { LiveState } from "./live_state.ts";
import { type ModelGroup, serviceGroups } from "./model_groups.ts";
import type { InstanceState } from "./state.ts";

/** One backend instance as a request sees it: where to send, what to add, its live state. */
export interface Upstream {
  /** Stable identity, `name@base-url+path` (with `#2`… for exact duplicates). */
  readonly id: string;
  /** The model name (or `*` pattern) this instance serves. */
  readonly name: string;
  readonly baseUrl: string;
  readonly path: string;
  /** `baseUrl` joined with `path`. */
  readonly url: string;
  /** Set when `path` is one of Ollama's native APIs, which needs translation both ways. */
  readonly native: NativeEndpoint | undefined;
  /** The translation its adapter makes for `path`, when it speaks another API than OpenAI's. */
  readonly translation: Translation | undefined;
  /** Where the gateway's HTTP/1.1 client connects and what it sends, read from `url`. */
  readonly http1: Http1Target;
  readonly weight: number;
  readonly adapter: AdapterName;
  /** Headers the instance sets on every upstream request, its `api-key` included. */
  readonly headers: readonly (readonly [string, string])[];
  /** Whether the client's `Authorization` goes upstream. */
  readonly forwardAuthorization: boolean;
  /** Whether it serves the models its backend lists rather than only its `name`. */
  readonly discover: boolean;
  /** When real requests that fail take it out of rotation. */
  readonly outlier: OutlierSettings;
  /**
   * The active instances of its service with the same `name`, itself included when active:
   * the pool whose share of ejected instances `max-ejection-percent` caps.
   */
  readonly peers: readonly Upstream[];
  /** How its backend is probed. */
  readonly health: HealthSettings;
  /** Live counters, shared by every snapshot (and service) that has this instance. */
  readonly state: InstanceState;
  /** The backend server it is on: health, listed models and load, shared with its siblings. */
  readonly backend: BackendState;
  /** Limits checked before it is picked; a request over one skips it. */
  readonly limits: readonly LiveLimit[];
  /** Token limits checked before it is picked and reserved in when it is claimed. */
  readonly tokenLimits: readonly LiveTokenLimit[];
  /** Its circuit breaker, when one is configured. */
  readonly breaker: CircuitBreaker | undefined;
  /**
   * Requests it may have in flight at once; `Infinity` when uncapped. With `max-concurrency:
   * auto`, the adaptive limit as it stands now.
   */
  readonly maxConcurrency: number;
  /** What its model can take, as configured; unknown capabilities are assumed. */
  readonly capabilities: Capabilities | undefined;
  /** The adaptive limit behind `maxConcurrency`, with `max-concurrency: auto`. */
  readonly concurrency: AdaptiveConcurrency | undefined;
  /** Whether the request's priority class goes upstream as vLLM's `priority` field. */
  readonly forwardPriority: boolean;
  /** `active`, or out of selection: `draining` or `disabled`. */
  readonly status: InstanceStatus;
  /** What its answers cost; none when the config gives no price. */
  readonly price: Price | undefined;
  /** The waiting lines of the models it serves, woken when it frees a slot. */
  readonly queues: WaitQueue[];
}

/** The instances serving one model name in one service, and the strategy that picks among them. */
export interface ModelPool {
  readonly name: string;
  /** True when `name` is a `*` pattern rather than an exact model name. */
  readonly pattern: boolean;
  readonly upstreams: readonly Upstream[];
  readonly strategy: Strategy<Upstream>;
  /** Where requests wait when every instance is at its `max-concurrency`; none when uncapped. */
  readonly queue: WaitQueue | undefined;
  /** ms a request may wait in the queue. */
  readonly queueTimeout: number;
  /**
   * What each instance can take, where it is known; undefined when nothing is known of any,
   * and a request's needs are not read.
   */
  readonly capabilities: ReadonlyMap<Upstream, Capabilities> | undefined;
  /**
   * ms a streaming request waits in the queue before its response starts, and then between
   * the comment lines sent while it waits; 0: never started early.
   */
  readonly queueKeepAlive: number;
}

/** The load-balance settings of a service, with inherited values and defaults applied. */
export interface ResolvedLoadBalance {
  readonly type: StrategyName;
  readonly hashAlgorithm: "md5" | "sha1" | "sha256" | "sha512";
  readonly virtualNodes: number;
  /** Lower-cased request header keying `consistent-hash`. */
  readonly hashHeader: string | undefined;
  /** ms between load reads, for `least-load` and `fastest`. */
  readonly loadInterval: number;
  /** `cost`: the longest expected time to first token (ms) to be picked by price. */
  readonly maxLatency: number;
}

/** One service at runtime. */
export interface ServiceRuntime {
  readonly type: ServiceType;
  readonly loadBalance: ResolvedLoadBalance;
  /** Every upstream, in config order, for the status endpoint. */
  readonly upstreams: readonly Upstream[];
  /** The resilience sections that apply, as written, for the status endpoint. */
  readonly settings: Readonly<Record<string, unknown>>;
  /** Limits checked once per request, before its body is read. */
  readonly limits: readonly LiveLimit[];
  /** Token limits a request reserves its estimated tokens in, once its body is read. */
  readonly tokenLimits: readonly LiveTokenLimit[];
  readonly retry: RetrySettings;
  readonly fallback: FallbackSettings;
  /** Answers kept for the `cache` fallback. */
  readonly cache: ResponseCache | undefined;
  /**
   * When set, this service is served by another's instances (completions and Messages by
   * chat's).
   */
  readonly derivedFrom: ServiceType | undefined;
  /**
   * The Messages service's token counts (`POST /v1/messages/count_tokens`): the same instances
   * on their counting endpoint. Only on `messages`.
   */
  readonly tokenCounts?: ServiceRuntime;
  /** The pool serving a model name: an exact name first, then the first matching pattern. */
  resolve(model: string): ModelPool | undefined;
  /** The model groups with members this service serves, by name. */
  readonly groups: ReadonlyMap<string, ModelGroup>;
  /** Every pool, exact names first. */
  pools(): readonly ModelPool[];
}

/** A model in `GET /v1/models`. */
export interface ModelEntry {
  readonly id: string;
  readonly services: readonly ServiceType[];
  /** Who serves it: `switchyard` for a configured name, the adapter for a discovered one. */
  readonly ownedBy: string;
}

/** Everything a request needs from the config, frozen. */
export interface Snapshot {
  readonly services: Readonly<Record<ServiceType, ServiceRuntime>>;
  /** Exact model names across services, configured or discovered, for `GET /v1/models`. */
  readonly models: readonly ModelEntry[];
  /** Every backend server, with what to watch on it. */
  readonly backends: readonly MonitoredBackend[];
  /** Whether some instance has a price, so that each request's token usage must be read. */
  readonly priced: boolean;
}

/** Options for {@linkcode buildSnapshot}. */
export interface BuildSnapshotOptions {
  /** Where instance, backend, breaker, limiter, cache and queue state lives. */
  readonly live: LiveState;
  /** `server.retries`: the retry count where no `retry` section sets one. */
  readonly retries: number;
  /** Randomness for the `random` strategy. @default Math.random */
  readonly random?: () => number;
  /** Clock in ms: the age of load readings and of measurements. @default Date.now */
  readonly now?: () => number;
  /** `model-groups`: names that stand for several models. @default none */
  readonly groups?: ModelGroupsConfig;
  /** How instances added at run time are held to the address policy. @default not at all */
  readonly runtimeInstances?: RuntimeInstanceCheck;
}

/** How instances added at run time are held to the address policy. */
export interface RuntimeInstanceCheck {
  /** Base URLs the config file names, without trailing slashes: theirs are trusted. */
  readonly fileUrls: ReadonlySet<string>;
  /** What every other instance's connections are checked with. */
  readonly check: AddressCheck;
}

/** Builds the runtime view of a `model:` config section. */
export function buildSnapshot(model: ModelConfig, options: BuildSnapshotOptions): Snapshot {
  const live = options.live;
  const upstreamsOf = new Map<ServiceType, Upstream[]>();
  const backends = new Map<string, MonitoredBackend>();
  for (const type of SERVICE_TYPES) {
    const service = model.services[type];
    if (!service) continue;
    const outlier = outlierSettings(model, type);
    const ids = instanceIds(model, type);
    const peersOf = new Map<string, Upstream[]>();
    upstreamsOf.set(
      type,
      service.instances.map((instance, index) => {
        let peers = peersOf.get(instance.name);
        if (!peers) peersOf.set(instance.name, peers = []);
        const adapterName = instance.adapter ?? service.adapter ?? model.adapter ?? "normal";
        const adapter = adapterFor(adapterName);
        const path = instance.path ?? adapter.defaultPaths[type]!;
        const baseUrl = instance["base-url"].replace(/\/+$/, "");
        const id = ids[index]!;
        // Names in lower case, as the proxy merges them into the client's by name.
        const headers = [
          ...(adapter.headers ?? []),
          ...(instance["api-key"] ? [adapter.authHeader(instance["api-key"])] : []),
          ...Object.entries(instance.headers ?? {}),
        ].map(([name, value]) => [name.toLowerCase(), value] as const);
        const discover = instance.discover ?? service.discover ?? false;
        const runtime = options.runtimeInstances;
        const addressCheck = runtime && !runtime.fileUrls.has(baseUrl) ? runtime.check : undefined;
        const key = `${adapter.name} ${baseUrl}`;
        const known = backends.get(key);
        const backend: MonitoredBackend = {
          target: known?.target ?? { baseUrl, adapter, headers, addressCheck },
          state: known?.state ?? live.backend(key),
          health: known?.health ?? healthSettings(model, type),
          discoveryInterval: discover ? discoveryInterval(model) : known?.discoveryInterval,
          loadInterval: undefined,
        };
        backends.set(key, backend);
        const upstream = makeUpstream(instance, {
          id,
          type,
          adapter: adapterName,
          baseUrl,
          path,
          translation: translationFor(type, adapterName, path),
          addressCheck,
          headers,
          discover,
          outlier,
          state: live.instance(id),
          backend: backend.state,
          health: backend.health,
          limits: instanceLimits(model, type, { id, config: instance["rate-limit"] })
            .map((placed) => ({ ...placed, limiters: live.limiters(placed.policy) })),
          tokenLimits: instanceTokenLimits(model, type, { id, config: instance["rate-limit"] })
            .map((placed) => ({ ...placed, budgets: live.tokenBudgets(placed.policy) })),
          breaker: live.breaker(id, breakerSettings(model, type, instance)),
          ...concurrencyOf(
            instance["max-concurrency"] ?? service["max-concurrency"] ??
              model["max-concurrency"],
            () => live.concurrency(id, concurrencyBounds(instance)),
          ),
          peers,
        });
        if (upstream.status === "active") peers.push(upstream);
        return upstream;
      }),
    );
  }

  const completionDerived = (model.services.completion?.instances.length ?? 0) === 0;
  if (completionDerived) {
    upstreamsOf.set("completion", (upstreamsOf.get("chat") ?? []).flatMap(completionOf));
  }

  const messagesDerived = (model.services.messages?.instances.length ?? 0) === 0;
  if (messagesDerived) {
    upstreamsOf.set("messages", (upstreamsOf.get("chat") ?? []).flatMap(messagesOf));
  }
  const responsesDerived = (model.services.responses?.instances.length ?? 0) === 0;
  if (responsesDerived) {
    upstreamsOf.set("responses", (upstreamsOf.get("chat") ?? []).flatMap(responsesOf));
  }

  const services = Object.fromEntries(SERVICE_TYPES.map((type) => {
    const derivedFrom = (type === "completion" && completionDerived) ||
        (type === "messages" && messagesDerived) || (type === "responses" && responsesDerived)
      ? "chat"
      : undefined;
    const config = model.services[derivedFrom ?? type];
    return [
      type,
      buildService(type, upstreamsOf.get(type) ?? [], { model, config, derivedFrom, options }),
    ];
  })) as Record<ServiceType, ServiceRuntime>;
  const messages = services.messages;
  services.messages = {
    ...messages,
    tokenCounts: buildService("messages", tokenCountsOf(messages.upstreams), {
      model,
      config: model.services[messages.derivedFrom ?? "messages"],
      derivedFrom: messages.derivedFrom,
      options,
      variant: "count_tokens",
    }),
  };

  // Backends in a least-load (or fastest) pool report their load as often as the most eager
  // such pool asks.
  for (const service of Object.values(services)) {
    const type = service.loadBalance.type;
    if (type !== "least-load" && type !== "fastest") continue;
    for (const upstream of service.upstreams) {
      const key = upstream.backend.key;
      const backend = backends.get(key);
      if (!backend) continue;
      const interval = Math.min(backend.loadInterval ?? Infinity, service.loadBalance.loadInterval);
      backends.set(key, { ...backend, loadInterval: interval });
    }
  }

  return {
    services,
    models: listModels(services),
    backends: [...backends.values()],
    priced: [...upstreamsOf.values()].some((upstreams) =>
      upstreams.some((upstream) => upstream.price !== undefined)
    ),
  };
}

/**
 * The ids of a service's instances, in config order: `name@base-url+path`, the path being the
 * adapter's default where none is written, and `#2`, `#3`… for exact duplicates.
 */
export function instanceIds(model: ModelConfig, type: ServiceType): string[] {
  return numberDuplicates(instanceKeys(model, type));
}

/**
 * What makes a service's instances the same instance, in config order: `name@base-url+path`
 * with the adapter's default path where none is written, without the `#2` of
 * {@linkcode instanceIds}. Two instances with the same key are duplicates.
 */
export function instanceKeys(model: ModelConfig, type: ServiceType): string[] {
  const service = model.services[type];
  return (service?.instances ?? []).map((instance) => {
    const adapter = adapterFor(instance.adapter ?? service?.adapter ?? model.adapter ?? "normal");
    const path = instance.path ?? adapter.defaultPaths[type]!;
    return `${instance.name}@${instance["base-url"].replace(/\/+$/, "")}${path}`;
  });
}

function makeUpstream(
  instance: InstanceConfig,
  where: {
    id: string;
    type: ServiceType;
    adapter: AdapterName;
    baseUrl: string;
    path: string;
    translation: Translation | undefined;
    addressCheck: AddressCheck | undefined;
    headers: readonly (readonly [string, string])[];
    discover: boolean;
    outlier: OutlierSettings;
    peers: readonly Upstream[];
    health: HealthSettings;
    state: InstanceState;
    backend: BackendState;
    limits: readonly LiveLimit[];
    tokenLimits: readonly LiveTokenLimit[];
    breaker: CircuitBreaker | undefined;
    maxConcurrency: number;
    concurrency: AdaptiveConcurrency | undefined;
  },
): Upstream {
  const { concurrency, maxConcurrency } = where;
  return {
    id: where.id,
    name: instance.name,
    baseUrl: where.baseUrl,
    path: where.path,
    url: where.baseUrl + where.path,
    native: nativeOf(where.adapter, where.path),
    translation: where.translation,
    http1: transportTarget(where.baseUrl + where.path, { addressCheck: where.addressCheck }).http1,
    weight: instance.weight,
    adapter: where.adapter,
    headers: where.headers,
    forwardAuthorization: instance["forward-authorization"],
    discover: where.discover,
    outlier: where.outlier,
    peers: where.peers,
    health: where.health,
    state: where.state,
    backend: where.backend,
    limits: where.limits,
    tokenLimits: where.tokenLimits,
    breaker: where.breaker,
    get maxConcurrency() {
      return concurrency ? concurrency.limit : maxConcurrency;
    },
    concurrency,
    capabilities: instance.capabilities,
    forwardPriority: instance["forward-priority"],
    status: instance.status,
    price: instance.price,
    queues: [],
  };
}

/** The cap of `max-concurrency`, fixed or (`auto`) adaptive. */
function concurrencyOf(
  configured: number | "auto" | undefined,
  adaptive: () => AdaptiveConcurrency,
): { maxConcurrency: number; concurrency: AdaptiveConcurrency | undefined } {
  if (configured === "auto") return { maxConcurrency: Infinity, concurrency: adaptive() };
  return { maxConcurrency: configured ?? Infinity, concurrency: undefined };
}

/** Where `max-concurrency: auto` moves an instance's limit, and where it starts. */
function concurrencyBounds(instance: InstanceConfig): ConcurrencyBounds {
  return {
    min: instance["max-concurrency-min"] ?? DEFAULT_BOUNDS.min,
    max: instance["max-concurrency-max"] ?? DEFAULT_BOUNDS.max,
    initial: DEFAULT_BOUNDS.initial,
  };
}

/**
 * `upstream` with `changes` (another endpoint of the same instance): a spread alone would copy
 * the adaptive `maxConcurrency` as the number it is now.
 */
function variantOf(upstream: Upstream, changes: Partial<Upstream>): Upstream {
  return Object.defineProperties({ ...upstream, ...changes }, {
    maxConcurrency: Object.getOwnPropertyDescriptor(upstream, "maxConcurrency")!,
  });
}

/** The native endpoint behind an Ollama instance's path, if it is one. */
function nativeOf(adapter: AdapterName, path: string): NativeEndpoint | undefined {
  return adapter === "ollama" ? nativeEndpointOf(path) : undefined;
}

/**
 * The legacy completions endpoint of a chat instance: on the adapter's default chat path, the
 * adapter's default completions path, if it serves one; else `…/chat/completions` →
 * `…/completions` (a query, such as Azure's `?api-version=`, kept), and Ollama's native
 * `…/api/chat` → `…/api/generate`.
 */
function completionOf(chat: Upstream): Upstream[] {
  const adapter = adapterFor(chat.adapter);
  const [chatPath, query] = splitQuery(chat.path);
  const path = chat.path === adapter.defaultPaths.chat
    ? adapter.defaultPaths.completion
    : chatPath.endsWith("/chat/completions")
    ? chatPath.slice(0, -"/chat/completions".length) + "/completions" + query
    : chat.native === "chat"
    ? chat.path.slice(0, -"/chat".length) + "/generate"
    : adapter.defaultPaths.completion;
  if (path === undefined) return [];
  return [variantOf(chat, {
    path,
    url: chat.baseUrl + path,
    http1: transportTarget(chat.baseUrl + path, { addressCheck: chat.http1.addressCheck }).http1,
    native: nativeOf(chat.adapter, path),
    translation: adapter.translation?.(path, "completion"),
  })];
}

/**
 * What an instance of a service on `path` needs translated: for `responses`, everything unless
 * the path is a Responses endpoint; for the others, what the adapter says.
 */
function translationFor(
  type: ServiceType,
  adapter: AdapterName,
  path: string,
): Translation | undefined {
  if (type === "responses") return path.endsWith("/responses") ? undefined : responsesOverChat;
  return adapterFor(adapter).translation?.(path, type);
}

/**
 * The endpoint of another client API (`messages`: Anthropic's Messages, `responses`: OpenAI's
 * Responses) on a chat instance: the backend's own when its adapter serves the API
 * (`…/chat/completions` → `…/messages` or `…/responses`, else the adapter's path), with the
 * client's bytes untouched; otherwise the chat path, with requests and answers translated. A chat
 * instance that is itself translated (to Anthropic's API, or Ollama's `/api/chat`) takes no
 * second translation: it serves the API only natively.
 */
function apiOf(
  api: "messages" | "responses",
  overChat: Translation,
): (chat: Upstream) => Upstream[] {
  return (chat) => {
    const native = adapterFor(chat.adapter).defaultPaths[api];
    if (native === undefined) {
      return chat.translation === undefined ? [variantOf(chat, { translation: overChat })] : [];
    }
    const path = chat.path.endsWith("/chat/completions")
      ? chat.path.slice(0, -"/chat/completions".length) + `/${api}`
      : native;
    return [variantOf(chat, {
      path,
      url: chat.baseUrl + path,
      http1: transportTarget(chat.baseUrl + path, { addressCheck: chat.http1.addressCheck }).http1,
      native: undefined,
      translation: undefined,
    })];
  };
}

const messagesOf = apiOf("messages", MESSAGES_TO_CHAT);
const responsesOf = apiOf("responses", responsesOverChat);

/**
 * The token counting endpoints of Messages instances: a native one's `…/messages/count_tokens`;
 * a translated one refuses, unless a native instance serves the same model.
 */
function tokenCountsOf(messages: readonly Upstream[]): Upstream[] {
  const counted = new Set(
    messages.filter((upstream) => upstream.translation === undefined).map(({ name }) => name),
  );
  return messages.flatMap((upstream) => {
    if (upstream.translation !== undefined) {
      return counted.has(upstream.name)
        ? []
        : [variantOf(upstream, { translation: NO_TOKEN_COUNT })];
    }
    const path = `${upstream.path}/count_tokens`;
    const url = upstream.baseUrl + path;
    return [variantOf(upstream, {
      path,
      url,
      http1: transportTarget(url, { addressCheck: upstream.http1.addressCheck }).http1,
    })];
  });
}

/** A path and its query (`?…`, or empty). */
function splitQuery(path: string): [string, string] {
  const at = path.indexOf("?");
  return at < 0 ? [path, ""] : [path.slice(0, at), path.slice(at)];
}

function buildService(
  type: ServiceType,
  upstreams: readonly Upstream[],
  context: {
    model: ModelConfig;
    config: ServiceConfig | undefined;
    derivedFrom: ServiceType | undefined;
    options: BuildSnapshotOptions;
    /** Another endpoint of the service's instances: its queues are its own, it has no cache. */
    variant?: string;
  },
): ServiceRuntime {
  const { model, config, options } = context;
  const configType = context.derivedFrom ?? type;
  const live = options.live;
  const queueSize = config?.["queue-size"] ?? model["queue-size"] ?? 100;
  const queueTimeout = config?.["queue-timeout"] ?? model["queue-timeout"] ?? 30_000;
  const queueKeepAlive = config?.["queue-keep-alive"] ?? model["queue-keep-alive"] ?? 2_000;
  const loadBalance = resolveLoadBalance(
    model["load-balance"],
    model.services["load-balance"],
    config?.["load-balance"],
  );
  const byName = new Map<string, Upstream[]>();
  const join = (name: string, upstream: Upstream) => {
    const group = byName.get(name);
    if (group) group.push(upstream);
    else byName.set(name, [upstream]);
  };
  for (const upstream of upstreams) {
    // Draining and disabled instances keep their state but take no new requests.
    if (upstream.status !== "active") continue;
    const listed = upstream.discover ? upstream.backend.models : undefined;
    if (listed === undefined) {
      join(upstream.name, upstream);
      continue;
    }
    // A discovering instance serves exactly the listed models its name matches.
    const matches = upstream.name.includes("*") ? globToRegExp(upstream.name) : undefined;
    for (const model of listed) {
      if (matches ? matches.test(model) : model === upstream.name) join(model, upstream);
    }
  }
  const exact = new Map<string, ModelPool>();
  const patterns: { regex: RegExp; pool: ModelPool }[] = [];
  for (const [name, group] of byName) {
    const strategy = STRATEGIES[loadBalance.type](group, {
      hashAlgorithm: loadBalance.hashAlgorithm,
      virtualNodes: loadBalance.virtualNodes,
      maxLatency: loadBalance.maxLatency,
      ...(options.random ? { random: options.random } : {}),
      ...(options.now ? { now: options.now } : {}),
    });
    const pattern = name.includes("*");
    const capped = group.some((upstream) => upstream.maxConcurrency !== Infinity);
    const queueKey = context.variant ? `${type}/${context.variant}/${name}` : `${type}/${name}`;
    const queue = capped ? live.queue(queueKey, queueSize) : undefined;
    if (queue) { for (const upstream of group) upstream.queues.push(queue); }
    const pool: ModelPool = {
      name,
      pattern,
      upstreams: group,
      strategy,
      queue,
      queueTimeout,
      // Counting tokens needs no capability of the model.
      capabilities: context.variant ? undefined : poolCapabilities(name, group),
      queueKeepAlive,
    };
    if (pattern) patterns.push({ regex: globToRegExp(name), pool });
    else exact.set(name, pool);
  }
  const settings = Object.fromEntries(
    (["rate-limit", "circuit-breaker", "retry", "fallback"] as const)
      .map((key) => [key, config?.[key] ?? model[key]])
      .filter(([, value]) => value !== undefined),
  );
  const fallback = fallbackSettings(model, configType);
  const resolve = (name: string) => {
    const pool = exact.get(name);
    if (pool || patterns.length === 0) return pool;
    return patterns.find(({ regex }) => regex.test(name))?.pool;
  };

  return {
    type,
    loadBalance,
    upstreams,
    settings,
    limits: requestLimits(model, configType)
      .map((placed) => ({ ...placed, limiters: live.limiters(placed.policy) })),
    tokenLimits: requestTokenLimits(model, configType)
      .map((placed) => ({ ...placed, budgets: live.tokenBudgets(placed.policy) })),
    retry: retrySettings(model, configType, { retries: options.retries }),
    fallback,
    cache: context.variant ? undefined : live.cache(type, fallback),
    derivedFrom: context.derivedFrom,
    pools: () => [...exact.values(), ...patterns.map(({ pool }) => pool)],
    resolve,
    groups: serviceGroups(options.groups ?? {}, resolve),
  };
}

function resolveLoadBalance(
  ...layers: readonly (LoadBalanceConfig | undefined)[]
): ResolvedLoadBalance {
  const merged: LoadBalanceConfig = Object.assign({}, ...layers.filter(Boolean));
  return {
    type: merged.type ?? "random",
    hashAlgorithm: merged["hash-algorithm"] ?? "md5",
    virtualNodes: merged["virtual-nodes"] ?? 150,
    hashHeader: merged["hash-header"]?.toLowerCase(),
    loadInterval: merged["load-interval"] ?? 2_000,
    maxLatency: merged["max-latency"] ?? Infinity,
  };
}

function listModels(services: Readonly<Record<ServiceType, ServiceRuntime>>): ModelEntry[] {
  const models = new Map<string, { services: ServiceType[]; ownedBy: string }>();
  const add = (id: string, type: ServiceType, ownedBy: string) => {
    const entry = models.get(id);
    if (!entry) models.set(id, { services: [type], ownedBy });
    else if (!entry.services.includes(type)) entry.services.push(type);
  };
  for (const type of SERVICE_TYPES) {
    for (const upstream of services[type].upstreams) {
      if (upstream.status !== "active") continue;
      const listed = upstream.discover ? upstream.backend.models : undefined;
      if (listed !== undefined) {
        const matches = globToRegExp(upstream.name);
        const ownedBy = adapterFor(upstream.adapter).name;
        for (const model of listed) if (matches.test(model)) add(model, type, ownedBy);
      } else if (!upstream.name.includes("*")) {
        add(upstream.name, type, "switchyard");
      }
    }
    for (const group of services[type].groups.keys()) add(group, type, "switchyard");
  }
  return [...models].map(([id, entry]) => ({ id, ...entry }));
}

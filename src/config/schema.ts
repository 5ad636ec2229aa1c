/**
 * The config file's schema: the single source of truth for validation, the TypeScript types
 * and the config reference in the README.
 *
 * The `model:` section keeps JAiRouter's keys and spelling (`base-url`, `failureThreshold`,
 * `imgGen`…) so its `application.yml` loads unchanged; the `server:` section is ours.
 * @module
 */
import { z } from "zod";
import { ADAPTER_NAMES, adapterFor } from "../adapters/mod.ts";
import { nativeEndpointOf } from "../adapters/ollama_native/mod.ts";
import { DEFAULT_BOUNDS } from "../limiter/adaptive_concurrency.ts";
import { LIMITER_ALGORITHMS, WRITTEN_LIMIT_SCOPES } from "../limiter/types.ts";
import { TOKEN_COUNTS } from "../limiter/token_budget.ts";
import { LOG_LEVELS } from "../logging/logger.ts";
import { JWT_ALGORITHMS } from "../auth/jwt.ts";
import { cidrProblem } from "../net/cidr.ts";
import { envReferences, resolveEnvReferences } from "./env_references.ts";
import { modelGroupIssues } from "./model_group_issues.ts";
import { SERVICE_TYPES, type ServiceType } from "../services.ts";
import { ADMIN_ROLES } from "../admin/roles.ts";
import { DEFAULT_MASKS } from "../observe/body_capture.ts";
import { PRIORITY_CLASSES, type PriorityClass } from "../queue/priority.ts";
import { isTimeZone } from "../budget/periods.ts";

/** A duration in milliseconds. */
const Millis = z.number().int().nonnegative().describe("milliseconds");

/**
 * Keys of JAiRouter's `model:` schema that have no meaning here, by the section they occur in,
 * with what the operator is told. They are accepted so a JAiRouter file loads unchanged, and
 * the loader warns once per key that it is ignored.
 */
export const IGNORED_JAIROUTER_KEYS = {
  "rate-limit": {
    key: "JAiRouter stores this key without limiting by it; `scope` says what a limit counts",
  },
  instance: {
    id: "JAiRouter's database id; use `instance-id` to name an instance",
    healthy: "JAiRouter's last known health; health checks and outlier detection decide here",
  },
} as const;

/** A JAiRouter key that is accepted and ignored (see {@linkcode IGNORED_JAIROUTER_KEYS}). */
function ignoredKey<T extends z.ZodType>(type: T, why: string) {
  return type.optional().describe(`accepted from JAiRouter and ignored with a warning: ${why}`);
}

/** An adapter name. */
const AdapterName = z.enum(ADAPTER_NAMES);

const BYTE_UNITS: Readonly<Record<string, number>> = {
  "": 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  kib: 1024,
  m: 1e6,
  mb: 1e6,
  mib: 1024 ** 2,
  g: 1e9,
  gb: 1e9,
  gib: 1024 ** 3,
};

/** A size in bytes: a number, or a string such as `25MiB`, `512KB`, `1GiB`. */
export const ByteSize = z.union([z.number(), z.string()]).transform((value, ctx) => {
  const match = typeof value === "string"
    ? /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value)
    : undefined;
  const bytes = typeof value === "number"
    ? value
    : match && BYTE_UNITS[match[2]!.toLowerCase()] !== undefined
    ? Math.round(Number(match[1]) * BYTE_UNITS[match[2]!.toLowerCase()]!)
    : NaN;
  if (!Number.isSafeInteger(bytes) || bytes <= 0) {
    ctx.addIssue({
      code: "custom",
      message: `Expected a size such as 25MiB or 1048576, got ${JSON.stringify(value)}`,
    });
    return z.NEVER;
  }
  return bytes;
});

/** Load-balancing strategy names. */
export const LOAD_BALANCE_TYPES = [
  "random",
  "round-robin",
  "least-connections",
  "least-load",
  "ip-hash",
  "consistent-hash",
  "fastest",
  "cost",
] as const;

/** Hash algorithms for `ip-hash` and `consistent-hash`. */
export const HASH_ALGORITHMS = ["md5", "sha1", "sha256", "sha512"] as const;

/**
 * `load-balance:` (global, or per service). Unset keys inherit from the global section.
 * JAiRouter's `virtualNodes` is read as `virtual-nodes`.
 */
export const LoadBalanceSchema = z.strictObject({
  type: z.enum(LOAD_BALANCE_TYPES).optional().describe("strategy; default random"),
  "hash-algorithm": z.enum(HASH_ALGORITHMS).optional().describe(
    "hash for ip-hash and consistent-hash; default md5",
  ),
  "virtual-nodes": z.number().int().min(1).max(10_000).optional().describe(
    "points per unit of weight on the consistent-hash ring; default 150",
  ),
  virtualNodes: z.number().int().min(1).max(10_000).optional().describe(
    "JAiRouter's spelling of virtual-nodes",
  ),
  "hash-header": z.string().min(1).optional().describe(
    "consistent-hash key: this request header's value, else the client IP",
  ),
  "load-interval": Millis.min(100).optional().describe(
    "ms between reads of each backend's load, for least-load and fastest; default 2000",
  ),
  "max-latency": Millis.min(1).optional().describe(
    "cost: the longest expected time to first token (ms) an instance may have to be picked for " +
      "its price; when none is within, the fastest is picked; default no bound",
  ),
}).superRefine((section, ctx) => {
  const { virtualNodes } = section;
  const ours = section["virtual-nodes"];
  if (virtualNodes !== undefined && ours !== undefined && virtualNodes !== ours) {
    ctx.addIssue({
      code: "custom",
      path: ["virtualNodes"],
      message: `virtualNodes (${virtualNodes}) and virtual-nodes (${ours}) are the same ` +
        "setting; write one",
    });
  }
}).transform(({ virtualNodes, ...section }) =>
  virtualNodes === undefined || section["virtual-nodes"] !== undefined
    ? section
    : { ...section, "virtual-nodes": virtualNodes }
);

/** `health-check:` (global, or per service): active probes. Unset keys inherit. */
export const HealthCheckSchema = z.strictObject({
  enabled: z.boolean().optional().describe("probe instances; default true"),
  interval: Millis.min(100).optional().describe("ms between probes of a backend; default 10000"),
  timeout: Millis.min(1).optional().describe("ms a probe may take; default 2000"),
  "unhealthy-threshold": z.number().int().min(1).max(100).optional().describe(
    "failed probes in a row that take a backend out; default 3",
  ),
  "healthy-threshold": z.number().int().min(1).max(100).optional().describe(
    "good probes in a row that bring it back; default 2",
  ),
});

/** `outlier-detection:` (global, or per service): ejection driven by real traffic. */
export const OutlierDetectionSchema = z.strictObject({
  enabled: z.boolean().optional().describe("eject failing instances; default true"),
  "consecutive-failures": z.number().int().min(1).max(1000).optional().describe(
    "failed requests in a row (unreachable, timeout or 5xx) that eject; default 5",
  ),
  "base-ejection-time": Millis.min(1).optional().describe(
    "ms out for the first ejection, times the number of ejections; default 30000",
  ),
  "max-ejection-time": Millis.min(1).optional().describe(
    "longest ejection in ms; default 300000",
  ),
  "max-ejection-percent": z.number().min(0).max(100).optional().describe(
    "share of a model's instances that may be ejected at once; at least one, never all; default 10",
  ),
});

/** `discovery:` (global): how model lists are polled for `discover: true`. */
export const DiscoverySchema = z.strictObject({
  interval: Millis.min(100).optional().describe("ms between model list reads; default 30000"),
});

/**
 * `rate-limit:` as JAiRouter spells it, plus `window`, `warm-up-period` and `cold-factor`.
 * Each section written is its own limit; a request passes only when every limit covering it
 * has room.
 */
export const RateLimitSchema = z.strictObject({
  enabled: z.boolean().default(true).describe("whether this limit applies; default true"),
  algorithm: z.enum(LIMITER_ALGORITHMS).default("token-bucket").describe(
    "token-bucket, leaky-bucket, sliding-window or warm-up; default token-bucket",
  ),
  capacity: z.number().int().positive().optional().describe(
    "burst size (token-bucket, warm-up), queue length (leaky-bucket) or requests per window " +
      "(sliding-window); required",
  ),
  rate: z.number().positive().optional().describe(
    "requests per second; required except for sliding-window",
  ),
  scope: z.enum(WRITTEN_LIMIT_SCOPES).optional().describe(
    "what one limiter counts: global, service, instance, client-ip or api-key; " +
      "default the level it is written at",
  ),
  "client-ip-enable": z.boolean().default(false).describe(
    "also give every client IP a limiter with the same settings",
  ),
  key: ignoredKey(z.string(), IGNORED_JAIROUTER_KEYS["rate-limit"].key),
  window: Millis.min(1).default(1_000).describe("sliding-window: the window in ms; default 1000"),
  "warm-up-period": Millis.default(10_000).describe(
    "warm-up: ms of full load from the cold rate to `rate`; default 10000",
  ),
  "cold-factor": z.number().min(1).max(100).default(3).describe(
    "warm-up: starts at rate ÷ cold-factor; default 3",
  ),
  "tokens-per-minute": z.number().int().positive().optional().describe(
    "also limit tokens: this many a minute, counted from the backends' usage; a section with " +
      "it may leave out capacity to limit tokens only",
  ),
  "token-type": z.enum(TOKEN_COUNTS).optional().describe(
    "the tokens tokens-per-minute counts: input (prompt), output (answer) or total; " +
      "default total",
  ),
}).superRefine((limit, ctx) => {
  if (!limit.enabled) return;
  if (limit["tokens-per-minute"] !== undefined && limit.capacity === undefined) return;
  if (limit.capacity === undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["capacity"],
      message: "An enabled rate-limit needs capacity (requests)",
    });
  }
  if (limit.rate === undefined && limit.algorithm !== "sliding-window") {
    ctx.addIssue({
      code: "custom",
      path: ["rate"],
      message: `An enabled ${limit.algorithm} rate-limit needs rate (requests per second)`,
    });
  }
});

/**
 * `circuit-breaker:` as JAiRouter spells it, plus `half-open-max-probes`; global, per service
 * and per instance, unset keys inheriting from the level above.
 */
export const CircuitBreakerSchema = z.strictObject({
  enabled: z.boolean().optional().describe(
    "whether the breaker applies; default true once any level has a circuit-breaker section",
  ),
  failureThreshold: z.number().int().positive().optional().describe(
    "consecutive failures that open the breaker; default 5",
  ),
  timeout: Millis.optional().describe("ms the breaker stays open before probing; default 60000"),
  successThreshold: z.number().int().positive().optional().describe(
    "successful probes that close it again; default 2",
  ),
  "half-open-max-probes": z.number().int().positive().optional().describe(
    "requests let through at once while half-open; default 1",
  ),
});

/** HTTP statuses a retry may follow. */
const RetryStatus = z.union([
  z.literal(429),
  z.literal(500),
  z.literal(502),
  z.literal(503),
  z.literal(504),
]);

/** `retry:` (global, or per service): trying again after a failure before the first byte. */
export const RetrySchema = z.strictObject({
  count: z.number().int().min(0).max(10).optional().describe(
    "further attempts after a failure; default server.retries",
  ),
  "base-delay": Millis.optional().describe(
    "backoff before the first retry, doubling with each; full jitter; default 50",
  ),
  "max-delay": Millis.optional().describe("longest backoff in ms; default 1000"),
  statuses: z.array(RetryStatus).optional().describe(
    "backend answers retried (429 only with Retry-After); default [429, 500, 502, 503, 504]",
  ),
});

/** `fallback:` as JAiRouter spells it, plus `models`; global, or per service. */
export const FallbackSchema = z.strictObject({
  enabled: z.boolean().optional().describe(
    "whether a fallback answers when every instance fails; default true once written",
  ),
  strategy: z.enum(["default", "cache"]).optional().describe(
    "default: a clear 503; cache: the last answer to the same request, else a 503",
  ),
  "cache-size": z.number().int().positive().optional().describe(
    "cached answers kept per service; default 100",
  ),
  "cache-ttl": Millis.min(1).optional().describe(
    "ms a cached answer stays usable; default 300000",
  ),
  models: z.array(z.string().min(1)).optional().describe(
    "models tried in order when every instance of the requested one fails",
  ),
});

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const HEADER_VALUE = /^[^\r\n\0]*$/;

/**
 * A value sent upstream in a header, which may name environment variables (`${NAME}`, see
 * `env_references.ts`): the output is the resolved value, checked to be one line.
 */
function upstreamHeaderValue(what: string) {
  return z.string().transform((text, ctx) => {
    const resolved = resolveEnvReferences(text);
    if (!resolved.ok) {
      ctx.addIssue({
        code: "custom",
        message: `Environment variable ${resolved.missing} (named by \${${resolved.missing}}) ` +
          "is not set",
      });
      return z.NEVER;
    }
    if (!HEADER_VALUE.test(resolved.value)) {
      const names = envReferences(text);
      ctx.addIssue({
        code: "custom",
        message: names.length === 0
          ? `${what} cannot contain line breaks`
          : `${what} cannot contain line breaks, and the value of ${names.join(", ")} has one`,
      });
      return z.NEVER;
    }
    return resolved.value;
  });
}

/** Extra headers an instance sends upstream, e.g. its own `Authorization`. */
export const HeadersSchema = z.record(
  z.string().regex(HEADER_NAME, "Header names are letters, digits and !#$%&'*+.^_`|~-"),
  upstreamHeaderValue("Header values"),
);

/** A cap on requests in flight at one instance. */
const MaxConcurrency = z.number().int().min(1).max(100_000);

/** Waiting for a free instance when every one is at its `max-concurrency`. */
const queueKeys = {
  "max-concurrency": MaxConcurrency.optional().describe(
    "default cap on requests in flight at each instance; unlimited when unset",
  ),
  "queue-size": z.number().int().min(0).max(100_000).optional().describe(
    "requests of one model that may wait for a free instance; default 100",
  ),
  "queue-timeout": Millis.optional().describe(
    "ms a request may wait for a free instance before a 503; default 30000",
  ),
  "queue-keep-alive": Millis.optional().describe(
    "ms a streaming request waits in the queue before its response starts with an SSE comment " +
      "line, repeated as often while it waits; 0 never starts it early; default 2000",
  ),
};

/**
 * What an instance's model can take. A capability left out is one the gateway learns from the
 * backend where it can, and otherwise assumes.
 */
export const CapabilitiesSchema = z.strictObject({
  context: z.number().int().min(1).optional().describe(
    "context length in tokens: prompt and output together; unlimited when unknown",
  ),
  vision: z.boolean().optional().describe("takes image input; assumed when unknown"),
  tools: z.boolean().optional().describe(
    "takes tool and function definitions; assumed when unknown",
  ),
  audio: z.boolean().optional().describe(
    "takes audio input and answers in audio; assumed when unknown",
  ),
});

/** `price:` of an instance, in USD; a price not given is 0. */
export const PriceSchema = z.strictObject({
  input: z.number().nonnegative().default(0).describe("USD per million input (prompt) tokens"),
  output: z.number().nonnegative().default(0).describe(
    "USD per million output (generated) tokens",
  ),
  request: z.number().nonnegative().default(0).describe("USD per request answered"),
});

/** Whether an instance takes new requests. */
export const INSTANCE_STATUSES = ["active", "draining", "disabled"] as const;

/** One backend instance of a service. */
export const InstanceSchema = z.strictObject({
  name: z.string().min(1).describe("the model name clients send as `model`"),
  "instance-id": z.string().min(1).regex(HEADER_VALUE, "An instance-id is one line").optional()
    .describe(
      "JAiRouter's id for this instance (v2.x); its /api/config/instance endpoints accept it " +
        "in place of name@base-url",
    ),
  id: ignoredKey(z.union([z.string(), z.number()]), IGNORED_JAIROUTER_KEYS.instance.id),
  healthy: ignoredKey(z.boolean(), IGNORED_JAIROUTER_KEYS.instance.healthy),
  "base-url": z.url({ protocol: /^https?$/, error: "Expected an http:// or https:// URL" })
    .describe("scheme, host and port of the backend"),
  path: z.string().startsWith("/", "A path starts with /").optional().describe(
    "full path of this service on base-url; the adapter's default when absent",
  ),
  weight: z.number().int().min(1).max(1000).default(1).describe("relative share of traffic"),
  adapter: AdapterName.optional().describe("backend kind; inherits the service's"),
  headers: HeadersSchema.optional().describe(
    "headers sent upstream, e.g. Authorization; values may name environment variables, ${NAME}",
  ),
  "forward-authorization": z.boolean().default(false).describe(
    "send the client's Authorization header upstream",
  ),
  "api-key": z.string().min(1).pipe(upstreamHeaderValue("An API key")).optional().describe(
    "key sent upstream in the header the adapter expects, or ${NAME}: the environment " +
      "variable NAME's value, read when the config loads",
  ),
  discover: z.boolean().optional().describe(
    "serve the models the backend lists; inherits the service's; default false",
  ),
  "rate-limit": RateLimitSchema.optional().describe("this instance's own limit"),
  "circuit-breaker": CircuitBreakerSchema.optional().describe(
    "this instance's breaker settings; unset keys inherit the service's",
  ),
  "max-concurrency": z.union([MaxConcurrency, z.literal("auto")]).optional().describe(
    "requests in flight at once; more wait in the model's queue; inherits the service's; " +
      "auto finds the limit from the instance's time to first token and its 429 and 503 answers",
  ),
  "max-concurrency-min": MaxConcurrency.optional().describe(
    "with max-concurrency: auto, the lowest the limit goes; default 1",
  ),
  "max-concurrency-max": MaxConcurrency.optional().describe(
    "with max-concurrency: auto, the highest the limit goes; default 256; the limit starts at " +
      "4, or within these bounds",
  ),
  capabilities: CapabilitiesSchema.optional().describe(
    "what its model can take; requests that need more go to other instances",
  ),
  price: PriceSchema.optional().describe(
    "what its answers cost: the cost strategy and model groups rank by it, and each request's " +
      "cost is counted from it",
  ),
  "forward-priority": z.boolean().default(false).describe(
    "send the request's priority class as vLLM's `priority` field (high -1, low 1; normal " +
      "sends none); for vLLM started with --scheduling-policy priority",
  ),
  status: z.enum([...INSTANCE_STATUSES, "inactive"]).default("active").describe(
    "active takes requests; draining and disabled take no new ones while those in flight " +
      "end; JAiRouter's inactive is disabled",
  ).transform((status): InstanceStatus => status === "inactive" ? "disabled" : status),
}).superRefine((instance, ctx) => {
  const min = instance["max-concurrency-min"] ?? DEFAULT_BOUNDS.min;
  const max = instance["max-concurrency-max"] ?? DEFAULT_BOUNDS.max;
  if (min > max) {
    ctx.addIssue({
      code: "custom",
      path: ["max-concurrency-min"],
      message: `max-concurrency-min ${min} is above max-concurrency-max ${max}`,
    });
  }
});

/** One service (`chat`, `embedding`…): its settings and instances. */
export const ServiceSchema = z.strictObject({
  "load-balance": LoadBalanceSchema.optional(),
  adapter: AdapterName.optional().describe("backend kind; inherits model.adapter"),
  "health-check": HealthCheckSchema.optional(),
  "outlier-detection": OutlierDetectionSchema.optional(),
  discover: z.boolean().optional().describe("default for this service's instances"),
  "rate-limit": RateLimitSchema.optional(),
  "circuit-breaker": CircuitBreakerSchema.optional(),
  retry: RetrySchema.optional(),
  fallback: FallbackSchema.optional(),
  ...queueKeys,
  instances: z.array(InstanceSchema).default([]).describe("the backends serving this service"),
});

const serviceShape = Object.fromEntries(
  SERVICE_TYPES.map((type) => [type, ServiceSchema.optional()]),
) as Record<ServiceType, z.ZodOptional<typeof ServiceSchema>>;

/**
 * `model.services`. Besides the service types it takes `load-balance`, which JAiRouter's
 * documentation shows there as the global strategy.
 */
export const ServicesSchema = z.strictObject({
  ...serviceShape,
  "load-balance": LoadBalanceSchema.optional(),
});

/** The `model:` section, JAiRouter's. */
export const ModelSchema = z.strictObject({
  "load-balance": LoadBalanceSchema.optional(),
  adapter: AdapterName.optional().describe("default adapter; default normal"),
  "health-check": HealthCheckSchema.optional(),
  "outlier-detection": OutlierDetectionSchema.optional(),
  discovery: DiscoverySchema.optional(),
  "rate-limit": RateLimitSchema.optional(),
  "circuit-breaker": CircuitBreakerSchema.optional(),
  retry: RetrySchema.optional(),
  fallback: FallbackSchema.optional(),
  ...queueKeys,
  services: ServicesSchema.prefault({}),
}).superRefine((model, ctx) => {
  for (const type of SERVICE_TYPES) {
    const service = model.services[type];
    const instanceIds = new Set<string>();
    service?.instances.forEach((instance, index) => {
      const instanceId = instance["instance-id"];
      if (instanceId !== undefined && instanceIds.has(instanceId)) {
        ctx.addIssue({
          code: "custom",
          path: ["services", type, "instances", index, "instance-id"],
          message: `Another ${type} instance has the instance-id "${instanceId}"`,
        });
      }
      if (instanceId !== undefined) instanceIds.add(instanceId);
      const name = instance.adapter ?? service.adapter ?? model.adapter ?? "normal";
      const adapter = adapterFor(name);
      // A Messages instance of its own with a path is a server that speaks the API there; a
      // Responses one is, or is a chat backend whose requests are translated.
      const placed = (type === "messages" || type === "responses") && instance.path !== undefined;
      if (adapter.defaultPaths[type] === undefined && !placed) {
        ctx.addIssue({
          code: "custom",
          path: ["services", type, "instances", index, ...(instance.adapter ? ["adapter"] : [])],
          message: `Instance "${instance.name}" at ${instance["base-url"]} is ${adapter.title} ` +
            `(adapter ${name}), which does not serve ${type}; ` +
            (type === "messages"
              ? "if this backend serves the Anthropic Messages API, give the instance its path"
              : type === "responses"
              ? "set its path: /v1/responses where the backend serves the Responses API, or " +
                "its chat path (/v1/chat/completions) to have requests translated"
              : "if this backend does, set adapter: openai"),
        });
      }
      const native = name === "ollama" && instance.path !== undefined
        ? nativeEndpointOf(instance.path)
        : undefined;
      if (native !== undefined && NATIVE_SERVICE[native] !== type) {
        ctx.addIssue({
          code: "custom",
          path: ["services", type, "instances", index, "path"],
          message: `${instance.path} is Ollama's native ${native} API, which serves ` +
            `${NATIVE_SERVICE[native]}, not ${type}`,
        });
      }
    });
  }
});

/** The service each of Ollama's native APIs can serve. */
const NATIVE_SERVICE = { chat: "chat", generate: "completion", embed: "embedding" } as const;

/** An IP address or CIDR block, e.g. `10.0.0.0/8` or `::1`. */
const CidrText = z.string().superRefine((text, ctx) => {
  const problem = cidrProblem(text);
  if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
});

/** Our `server:` section. */
export const ServerSchema = z.strictObject({
  host: z.string().min(1).default("0.0.0.0").describe("address to listen on"),
  port: z.number().int().min(0).max(65_535).default(8080).describe("port to listen on"),
  // A 25 MiB audio file (OpenAI's upload limit) with its multipart framing fits.
  "max-body-size": ByteSize.default(32 * 1024 * 1024).describe(
    "largest request body accepted: bytes, or a size such as 25MiB; default 32MiB",
  ),
  timeouts: z.strictObject({
    connect: Millis.default(5_000).describe("for the backend to accept a connection"),
    "first-byte": Millis.default(300_000).describe(
      "from sending the request to the response headers; 0 disables",
    ),
    "first-token": Millis.default(300_000).describe(
      "from sending a request with `stream: true` to the first data event of its SSE answer " +
        "(a `: ping` comment is none); 0 disables",
    ),
    idle: Millis.default(60_000).describe(
      "between two chunks of a streamed response; 0 disables and pipes streams natively",
    ),
    "body-idle": Millis.default(30_000).describe(
      "how long a client's request body may go without a byte arriving (a body of up to " +
        "64 KiB must arrive whole within it) before the request ends with 408; 0 disables",
    ),
  }).prefault({}),
  retries: z.number().int().min(0).max(10).default(2).describe(
    "further instances tried after a failure before the first byte",
  ),
  "trusted-proxies": z.array(CidrText).default([]).describe(
    "proxies (addresses or CIDRs) whose X-Forwarded-For and Forwarded headers name the client",
  ),
  "limits-save-interval": Millis.min(100).default(10_000).describe(
    "ms between saves of rate limiter state to the KV store; also saved at shutdown",
  ),
  "limits-sync-interval": Millis.min(10).max(10_000).default(250).describe(
    "ms between syncs of the rate and token limits' use with the other gateways sharing the " +
      "store (--redis, else --kv): a gateway sees the others' use at most this late; also " +
      "synced at shutdown",
  ),
  "budgets-sync-interval": Millis.min(10).max(60_000).default(1000).describe(
    "ms between writes of the budgets' use to the --kv store, each followed by a read of the " +
      "totals: gateways sharing the store see each other's use at most about this late (and may " +
      "let that much use past a budget together); also written at shutdown, and before the end " +
      "of every answer under a budget",
  ),
  "shutdown-announce": Millis.default(0).describe(
    "ms after SIGTERM or SIGINT during which the gateway still accepts requests while /ready " +
      "answers 503, so that a load balancer stops sending before the listener closes",
  ),
  "shutdown-grace": Millis.default(10_000).describe(
    "how long in-flight requests may run after the listener closes on SIGTERM or SIGINT",
  ),
});

/** A secret as written: the text itself, or `sha256:` and the hex digest of it. */
const SecretText = z.string().min(1).regex(HEADER_VALUE, "A key cannot contain line breaks")
  .refine((text) => !text.startsWith("sha256:") || /^sha256:[0-9a-f]{64}$/i.test(text), {
    message: "A sha256: key is followed by the 64 hex digits of the key's SHA-256 digest",
  });

/** A name that identifies a key in logs and the audit trail without revealing it. */
const KeyId = z.string().regex(
  /^[A-Za-z0-9._-]{1,64}$/,
  "A key id is 1 to 64 letters, digits, dots, dashes or underscores",
);

/** Daily and monthly budgets of a key or a team. */
export const BudgetSchema = z.strictObject({
  "requests-per-day": z.int().positive().optional().describe("requests a day"),
  "tokens-per-day": z.int().positive().optional().describe(
    "input and output tokens a day, as the backends report them",
  ),
  "spend-per-day": z.number().positive().optional().describe(
    "US dollars a day, from the instances' prices",
  ),
  "requests-per-month": z.int().positive().optional().describe("requests a month"),
  "tokens-per-month": z.int().positive().optional().describe("input and output tokens a month"),
  "spend-per-month": z.number().positive().optional().describe("US dollars a month"),
});

/** One client API key written in the config. */
export const ApiKeySchema = z.strictObject({
  id: KeyId.describe("names the key in logs, limits and the audit trail"),
  key: SecretText.describe("the key clients send, or sha256:<hex digest of it>"),
  models: z.array(z.string().min(1)).optional().describe(
    "models this key may use (`*` patterns allowed); every model when unset",
  ),
  "rate-limit": RateLimitSchema.optional().describe("this key's own limit"),
  budget: BudgetSchema.optional().describe(
    "what this key may use in a day and a month, besides its team's budget",
  ),
  team: KeyId.optional().describe(
    "the team it belongs to: it takes the team's models, limit and priority, and may narrow them",
  ),
  "max-concurrency": MaxConcurrency.optional().describe(
    "requests of this key in flight at once across the gateway; more wait in the model's queue " +
      "in the key's own lane; unlimited when unset",
  ),
  priority: z.enum(PRIORITY_CLASSES).optional().describe(
    "class of this key's requests in a model's queue: high waits before normal, normal before " +
      "low; its team's (else normal) when unset, and never above its team's",
  ),
  "priority-header": z.boolean().default(false).describe(
    "let the x-priority request header choose any class; without it the header may only lower " +
      "the class; in a team, only when the team allows it, and never above the team's class",
  ),
  expires: z.iso.datetime({ offset: true }).optional().describe(
    "ISO time after which the key is refused",
  ),
  "allowed-ips": z.array(CidrText).min(1).optional().describe(
    "addresses or CIDR ranges the key may be used from (the client address, as " +
      "server.trusted-proxies resolve it); from anywhere when unset",
  ),
  enabled: z.boolean().default(true).describe("whether the key is accepted"),
  dailyRequestLimit: z.int().positive().optional().describe(
    "JAiRouter's name for budget.requests-per-day",
  ),
  dailyTokenLimit: z.int().positive().optional().describe(
    "JAiRouter's name for budget.tokens-per-day",
  ),
  rateLimitPerMinute: z.int().positive().optional().describe(
    "JAiRouter's requests per minute: a sliding-window rate-limit of that many a minute",
  ),
  allowedIpAddresses: z.array(CidrText).min(1).optional().describe(
    "JAiRouter's name for allowed-ips",
  ),
  expiresAt: z.iso.datetime({ offset: true }).optional().describe(
    "JAiRouter's name for expires",
  ),
});

/** JAiRouter's key settings and the keys of ours they stand for. */
export const JAIROUTER_KEY_NAMES = {
  dailyRequestLimit: "budget.requests-per-day",
  dailyTokenLimit: "budget.tokens-per-day",
  rateLimitPerMinute: "rate-limit",
  allowedIpAddresses: "allowed-ips",
  expiresAt: "expires",
} as const;

/** A team of client keys, in `auth.teams`. */
export const TeamSchema = z.strictObject({
  id: KeyId.describe("names the team in keys, logs, limits and the audit trail"),
  models: z.array(z.string().min(1)).optional().describe(
    "models the team's keys may use (`*` patterns allowed); every model when unset",
  ),
  "rate-limit": RateLimitSchema.optional().describe(
    "one limit all the team's keys share, besides each key's own",
  ),
  budget: BudgetSchema.optional().describe(
    "what all the team's keys may use together in a day and a month",
  ),
  "max-concurrency": MaxConcurrency.optional().describe(
    "requests of all the team's keys in flight at once across the gateway, besides each key's " +
      "own cap; more wait in the model's queue; unlimited when unset",
  ),
  priority: z.enum(PRIORITY_CLASSES).default("normal").describe(
    "class of the team's requests in a model's queue; its keys may only lower it",
  ),
  "priority-header": z.boolean().default(false).describe(
    "let the team's keys set priority-header, to choose a class up to the team's with x-priority",
  ),
  enabled: z.boolean().default(true).describe("false refuses every key of the team"),
});

/** How JWTs are verified: where the keys are, which algorithms, issuer and audience. */
const jwtVerification = {
  "jwks-url": z.url({ protocol: /^https?$/, error: "Expected an http:// or https:// URL" })
    .optional().describe("where the signing keys are published"),
  key: z.string().min(1).optional().describe(
    "or one key: an HMAC secret, a PEM public key, or a JWK as JSON",
  ),
  algorithms: z.array(z.enum(JWT_ALGORITHMS)).min(1).describe("algorithms accepted, pinned"),
  issuer: z.string().min(1).optional().describe("required `iss`"),
  audience: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional()
    .describe("accepted `aud` values"),
  "clock-skew": Millis.default(30_000).describe("leeway for exp and nbf, ms"),
};

/** Refuses JWT settings with both or neither of `jwks-url` and `key`. */
function oneKeySource(
  jwt: { readonly "jwks-url"?: string | undefined; readonly key?: string | undefined },
  ctx: z.RefinementCtx,
): void {
  if ((jwt["jwks-url"] === undefined) === (jwt.key === undefined)) {
    ctx.addIssue({ code: "custom", message: "Set exactly one of jwks-url and key" });
  }
}

/** `auth.jwt:` verification of client JWTs. */
export const JwtSchema = z.strictObject({
  ...jwtVerification,
  "models-claim": z.string().min(1).optional().describe(
    "claim listing the models a token may use; every model when unset",
  ),
  "team-claim": z.string().min(1).optional().describe(
    "claim naming the team (auth.teams) a token is of: its models, limits, budget and class apply",
  ),
}).superRefine(oneKeySource);

/** `admin.jwt:` verification of admin JWTs, whose role a claim names. */
export const AdminJwtSchema = z.strictObject({
  ...jwtVerification,
  "role-claim": z.string().min(1).default("role").describe(
    "claim naming the token's admin role (viewer, operator or admin), or a list of them",
  ),
}).superRefine(oneKeySource);

/** Our `admin:` section: who may use the admin API, and what it may point instances at. */
export const AdminSchema = z.strictObject({
  keys: z.array(z.union([
    SecretText,
    z.strictObject({
      id: KeyId,
      key: SecretText,
      role: z.enum(ADMIN_ROLES).default("admin").describe(
        "viewer reads; operator also runs instances and resets breakers and limiters; " +
          "admin does everything",
      ),
    }),
  ])).default([]).describe(
    "admin keys (the key, sha256:<hex digest>, or {id, key, role}); a bare key is an admin; " +
      "without any, and without SWITCHYARD_ADMIN_KEY, the admin API answers only on loopback",
  ),
  jwt: AdminJwtSchema.optional().describe(
    "admin JWTs: verified like auth.jwt, with the role in a claim",
  ),
  "allow-private": z.boolean().default(true).describe(
    "whether instances added at runtime may point at loopback and private addresses",
  ),
  "keep-versions": z.int().min(0).default(100).describe(
    "how many of the newest config versions the store keeps for history and rollback; older " +
      "ones are deleted as new ones are made (0 keeps every version)",
  ),
  "file-wins": z.boolean().default(false).describe(
    "when the file's model: section changed (at start or on SIGHUP), it replaces the runtime " +
      "changes made since instead of being merged with them",
  ),
});

/** Our `auth:` section: which clients may call `/v1`. */
export const AuthSchema = z.strictObject({
  enabled: z.boolean().default(false).describe("require a valid API key or JWT on /v1"),
  "budget-time-zone": z.string().refine(isTimeZone, "Not a time zone the runtime knows")
    .default("UTC").describe(
      "the time zone whose midnight starts a budget's day, and whose 1st its month " +
        "(e.g. Asia/Shanghai)",
    ),
  teams: z.array(TeamSchema).default([]).describe(
    "teams of keys: each with models, a shared limit and a priority class its keys inherit",
  ).superRefine((teams, ctx) => uniqueIds(teams, "team", ctx)),
  keys: z.array(ApiKeySchema).default([]).describe(
    "API keys; more can be created through the admin API",
  ).superRefine((keys, ctx) => uniqueIds(keys, "key", ctx)),
  jwt: JwtSchema.optional(),
  "public-status": z.boolean().default(false).describe(
    "with auth enabled, /status.json and /metrics still answer without a key (the /status " +
      "page itself holds no data); off, they need one as /v1 does",
  ),
}).superRefine((auth, ctx) => {
  const teams = new Map(auth.teams.map((team) => [team.id, team]));
  auth.keys.forEach((key, index) => {
    for (const [name, ours] of Object.entries(JAIROUTER_KEY_NAMES)) {
      const [section, field] = ours.split(".") as [keyof typeof key, string | undefined];
      const written = field === undefined
        ? key[section] !== undefined
        : (key[section] as Record<string, unknown> | undefined)?.[field] !== undefined;
      if (key[name as keyof typeof key] !== undefined && written) {
        ctx.addIssue({
          code: "custom",
          path: ["keys", index, name],
          message: `Set ${name} or ${ours}, not both`,
        });
      }
    }
    for (
      const problem of teamProblems(key, key.team === undefined ? undefined : teams.get(key.team))
    ) {
      ctx.addIssue({
        code: "custom",
        path: ["keys", index, problem.key],
        message: problem.message,
      });
    }
  });
});

/** Refuses a second entry with the same `id`. */
function uniqueIds(
  entries: readonly { readonly id: string }[],
  what: string,
  ctx: z.RefinementCtx,
): void {
  const seen = new Set<string>();
  entries.forEach((entry, index) => {
    if (seen.has(entry.id)) {
      ctx.addIssue({
        code: "custom",
        path: [index, "id"],
        message: `Duplicate ${what} id "${entry.id}"`,
      });
    }
    seen.add(entry.id);
  });
}

/** What of a key its team does not allow: an unknown team, a class above the team's. */
export function teamProblems(
  key: {
    readonly team?: string | undefined;
    readonly priority?: PriorityClass | undefined;
    readonly "priority-header"?: boolean | undefined;
  },
  team: { readonly priority: PriorityClass; readonly "priority-header": boolean } | undefined,
): { readonly key: "team" | "priority" | "priority-header"; readonly message: string }[] {
  if (key.team === undefined) return [];
  if (team === undefined) {
    return [{ key: "team", message: `No team "${key.team}" in auth.teams` }];
  }
  const problems: { key: "team" | "priority" | "priority-header"; message: string }[] = [];
  if (
    key.priority !== undefined &&
    PRIORITY_CLASSES.indexOf(key.priority) < PRIORITY_CLASSES.indexOf(team.priority)
  ) {
    problems.push({
      key: "priority",
      message: `The priority "${key.priority}" is above the team's "${team.priority}"`,
    });
  }
  if (key["priority-header"] && !team["priority-header"]) {
    problems.push({
      key: "priority-header",
      message: `The team "${key.team}" does not allow priority-header`,
    });
  }
  return problems;
}

/** Our `log:` section: what the gateway writes to stdout. */
export const LogSchema = z.strictObject({
  level: z.enum(LOG_LEVELS).default("info").describe(
    "lines below this level are not written: a request line is info, a refused request's " +
      "warn (4xx) and a failed one's error (5xx)",
  ),
  format: z.enum(["auto", "json", "text"]).default("auto").describe(
    "auto: readable text on a terminal, one JSON object per line otherwise",
  ),
  requests: z.boolean().default(true).describe("one line per /v1 request"),
  bodies: z.boolean().default(false).describe(
    "add the request's body and the answer's to its line (request_body, response_body), " +
      "masked; off, no prompt or answer text is ever logged",
  ),
  "body-bytes": z.int().min(1).max(1_048_576).default(4096).describe(
    "the most bytes of each body a line holds",
  ),
  mask: z.array(z.string().min(1).refine(isRegExp, "Not a valid regular expression"))
    .default([...DEFAULT_MASKS]).describe(
      "regular expressions whose matches in logged bodies are written as [masked]; the " +
        "default masks email addresses, bearer tokens, sk-/key- style keys and card numbers",
    ),
});

/** Whether `pattern` compiles as a regular expression. */
function isRegExp(pattern: string): boolean {
  try {
    new RegExp(pattern, "g");
    return true;
  } catch {
    return false;
  }
}

/** Our `metrics:` section: the Prometheus endpoint. */
export const MetricsSchema = z.strictObject({
  enabled: z.boolean().default(true).describe("serve GET /metrics and record request metrics"),
});

/**
 * Sections of a JAiRouter/Spring `application.yml` that mean nothing here. They are accepted so
 * such a file loads unchanged, and the loader warns that they are ignored.
 */
export const FOREIGN_SECTIONS = [
  "spring",
  "management",
  "logging",
  "store",
  "webclient",
  "springdoc",
  "monitoring",
  "jairouter",
] as const;

/** One model of a model group. */
export const GroupMemberSchema = z.strictObject({
  model: z.string().min(1).describe("a model name instances serve"),
  quality: z.number().min(0).max(1).describe("how good its answers are, 0 (worst) to 1 (best)"),
  price: PriceSchema.optional().describe(
    "what it costs, for choosing it; default the price of its cheapest available instance",
  ),
});

/** `model-groups.<name>`: several models a client asks for by one name. */
export const ModelGroupSchema = z.strictObject({
  members: z.array(GroupMemberSchema).min(1).describe(
    "the models the group stands for; each request goes to one of them",
  ),
  weights: z.strictObject({
    quality: z.number().nonnegative().default(1).describe("weight of higher quality; default 1"),
    cost: z.number().nonnegative().default(1).describe("weight of lower cost; default 1"),
    latency: z.number().nonnegative().default(1).describe(
      "weight of lower measured time to first token; default 1",
    ),
  }).prefault({}).describe("how much each attribute counts when choosing among the best"),
});

/** The whole config file. */
export const ConfigSchema = z.strictObject({
  server: ServerSchema.prefault({}),
  admin: AdminSchema.prefault({}),
  auth: AuthSchema.prefault({}),
  log: LogSchema.prefault({}),
  metrics: MetricsSchema.prefault({}),
  model: ModelSchema.prefault({}),
  "model-groups": z.record(z.string().min(1), ModelGroupSchema).default({}).describe(
    "names a client may send as `model` that stand for several models: each request goes to " +
      "the best of them by quality, cost and measured speed",
  ),
  ...Object.fromEntries(FOREIGN_SECTIONS.map((name) => [name, z.unknown().optional()])),
}).superRefine((config, ctx) => {
  const instanceNames = SERVICE_TYPES.flatMap((type) =>
    config.model.services[type]?.instances.map((instance) => instance.name) ?? []
  );
  for (const issue of modelGroupIssues(config["model-groups"], instanceNames)) {
    ctx.addIssue({ code: "custom", path: ["model-groups", ...issue.path], message: issue.message });
  }
});

/** A config as written by a user: optional fields may be absent. */
export type ConfigInput = z.input<typeof ConfigSchema>;
/** A config with every default applied. */
export type Config = z.output<typeof ConfigSchema>;
/** The resolved `server:` section. */
export type ServerConfig = Config["server"];
/** The resolved `model:` section. */
export type ModelConfig = Config["model"];
/** The resolved `model-groups:` section. */
export type ModelGroupsConfig = Config["model-groups"];
/** One resolved model group. */
export type ModelGroupConfig = z.output<typeof ModelGroupSchema>;
/** One resolved service section. */
export type ServiceConfig = z.output<typeof ServiceSchema>;
/** The resolved `admin:` section. */
export type AdminConfig = Config["admin"];
/** The resolved `log:` section. */
export type LogConfig = Config["log"];
/** The resolved `auth:` section. */
export type AuthConfig = Config["auth"];
/** One resolved API key from the config. */
export type ApiKeyConfig = z.output<typeof ApiKeySchema>;
/** A team of keys. */
export type TeamConfig = z.output<typeof TeamSchema>;
/** An instance's status. */
export type InstanceStatus = (typeof INSTANCE_STATUSES)[number];
/** One resolved instance. */
export type InstanceConfig = z.output<typeof InstanceSchema>;
/** What an instance's model can take, as configured or learned; unknown where left out. */
export type Capabilities = z.output<typeof CapabilitiesSchema>;
/** A `load-balance:` section. */
export type LoadBalanceConfig = z.output<typeof LoadBalanceSchema>;
/** A `health-check:` section. */
export type HealthCheckConfig = z.output<typeof HealthCheckSchema>;
/** An `outlier-detection:` section. */
export type OutlierDetectionConfig = z.output<typeof OutlierDetectionSchema>;

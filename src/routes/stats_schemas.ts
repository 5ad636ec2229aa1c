/**
 * The shapes of the statistics endpoints' answers, for the OpenAPI document (with an example
 * each) and for the tests that hold the answers to them.
 * @module
 */
import { z } from "@hono/zod-openapi";

const ms = (description: string) => z.number().nullable().openapi({ description });

const LatencySummarySchema = z.object({
  samples: z.number().int().openapi({ description: "Successful requests measured" }),
  p50: ms("ms; null without samples"),
  p90: ms("ms; null without samples"),
  p99: ms("ms; null without samples"),
}).openapi("LatencySummary");

const Counts = {
  requests: z.number().int(),
  succeeded: z.number().int().openapi({ description: "Answered below 400 and delivered whole" }),
  failed: z.number().int().openapi({
    description: "Answered 500 or more, timed out, or cut midway",
  }),
  success_rate: z.number().nullable().openapi({
    description: "succeeded / (succeeded + failed); null before either",
  }),
  time_to_first_token_ms: LatencySummarySchema,
  duration_ms: LatencySummarySchema,
};

const RecentSchema = z.object({
  time_to_first_token_ms: ms("Decaying average, half-life 10 s"),
  time_per_output_token_ms: ms("Decaying average over streams"),
  success_rate: z.number().nullable().openapi({ description: "Decaying average, 0 to 1" }),
  samples: z.number().int(),
}).openapi("RecentPerformance", {
  description: "What the gateway measured lately, as the performance-aware strategies read it",
});

const HealthStatusSchema = z.enum(["unknown", "up", "down"]);
const BreakerSchema = z.enum(["closed", "open", "half-open"]).nullable();
const OverallSchema = z.enum(["healthy", "degraded", "unhealthy"]);

const LoadSchema = z.object({
  running: z.number().nullable(),
  waiting: z.number().nullable(),
  kv_cache_usage: z.number().nullable(),
  loaded_models: z.array(z.string()).nullable(),
  read_at: z.string(),
}).nullable().openapi("BackendLoad", {
  description: "The load the backend last reported, when a least-load pool reads it",
});

const ProviderHealthFields = {
  status: HealthStatusSchema,
  reason: z.string(),
  changed_at: z.string().nullable(),
  last_failure: z.string().nullable(),
};

const EXAMPLE_LATENCY = { samples: 120, p50: 210.5, p90: 480.2, p99: 903.1 };
const EXAMPLE_DURATION = { samples: 120, p50: 2310.4, p90: 4102.7, p99: 6950 };
const EXAMPLE_RECENT = {
  time_to_first_token_ms: 198.4,
  time_per_output_token_ms: 21.37,
  success_rate: 0.9987,
  samples: 121,
};

/** `GET /v1/stats`. */
export const StatsSchema = z.object({
  object: z.literal("stats"),
  since: z.string().openapi({ description: "Start, or the last reset" }),
  now: z.string(),
  totals: z.object({
    requests: z.number().int(),
    succeeded: z.number().int(),
    failed: z.number().int(),
    success_rate: z.number().nullable(),
    in_flight: z.number().int().openapi({ description: "Client requests in flight" }),
    queued: z.number().int().openapi({ description: "Requests waiting for a free instance" }),
    cost_usd: z.number(),
  }),
  models: z.array(z.object({
    model: z.string(),
    services: z.array(z.string()),
    instances: z.number().int(),
    available_instances: z.number().int(),
    in_flight: z.number().int().openapi({ description: "In flight on its instances" }),
    queued: z.number().int(),
    ...Counts,
  })),
  instances: z.array(z.object({
    id: z.string(),
    model: z.string(),
    services: z.array(z.string()),
    provider: z.string(),
    base_url: z.string(),
    adapter: z.string(),
    status: z.enum(["active", "draining", "disabled"]),
    health: HealthStatusSchema,
    breaker: BreakerSchema,
    available: z.boolean(),
    in_flight: z.number().int(),
    max_concurrency: z.number().nullable(),
    ...Counts,
    recent: RecentSchema,
    cost_usd: z.number(),
  })),
}).openapi("Stats", {
  example: {
    object: "stats",
    since: "2026-12-05T07:00:00.000Z",
    now: "2026-12-05T08:00:00.000Z",
    totals: {
      requests: 124,
      succeeded: 120,
      failed: 2,
      success_rate: 0.9836,
      in_flight: 3,
      queued: 0,
      cost_usd: 0.0412,
    },
    models: [{
      model: "llama3",
      services: ["chat", "completion", "messages", "responses"],
      instances: 2,
      available_instances: 2,
      in_flight: 3,
      queued: 0,
      requests: 124,
      succeeded: 120,
      failed: 2,
      success_rate: 0.9836,
      time_to_first_token_ms: EXAMPLE_LATENCY,
      duration_ms: EXAMPLE_DURATION,
    }],
    instances: [{
      id: "llama3@http://gpu-1:8000/v1/chat/completions",
      model: "llama3",
      services: ["chat", "completion", "messages", "responses"],
      provider: "vllm http://gpu-1:8000",
      base_url: "http://gpu-1:8000",
      adapter: "vllm",
      status: "active",
      health: "up",
      breaker: "closed",
      available: true,
      in_flight: 2,
      max_concurrency: null,
      requests: 70,
      succeeded: 69,
      failed: 1,
      success_rate: 0.9857,
      time_to_first_token_ms: EXAMPLE_LATENCY,
      duration_ms: EXAMPLE_DURATION,
      recent: EXAMPLE_RECENT,
      cost_usd: 0.0412,
    }],
  },
});

/** `GET /v1/providers/stats/overview`. */
export const ProvidersStatsSchema = z.object({
  object: z.literal("providers.stats"),
  since: z.string(),
  now: z.string(),
  providers: z.array(z.object({
    provider: z.string().openapi({ description: "The backend server: `adapter base-url`" }),
    base_url: z.string(),
    adapter: z.string(),
    health: z.object(ProviderHealthFields),
    instances: z.array(z.string()),
    available_instances: z.number().int(),
    in_flight: z.number().int(),
    ...Counts,
    models: z.array(z.string()).nullable().openapi({
      description: "The models it listed, when an instance discovers them",
    }),
    load: LoadSchema,
    cost_usd: z.number(),
  })),
}).openapi("ProvidersStats", {
  example: {
    object: "providers.stats",
    since: "2026-12-05T07:00:00.000Z",
    now: "2026-12-05T08:00:00.000Z",
    providers: [{
      provider: "vllm http://gpu-1:8000",
      base_url: "http://gpu-1:8000",
      adapter: "vllm",
      health: {
        status: "up",
        reason: "probe answered 200",
        changed_at: "2026-12-05T07:00:01.000Z",
        last_failure: null,
      },
      instances: ["llama3@http://gpu-1:8000/v1/chat/completions"],
      available_instances: 1,
      in_flight: 2,
      requests: 70,
      succeeded: 69,
      failed: 1,
      success_rate: 0.9857,
      time_to_first_token_ms: EXAMPLE_LATENCY,
      duration_ms: EXAMPLE_DURATION,
      models: null,
      load: {
        running: 2,
        waiting: 0,
        kv_cache_usage: 0.31,
        loaded_models: null,
        read_at: "2026-12-05T07:59:59.000Z",
      },
      cost_usd: 0.0412,
    }],
  },
});

/** `GET /v1/load-balancing/statistics`. */
export const LoadBalancingStatsSchema = z.object({
  object: z.literal("load_balancing.statistics"),
  since: z.string(),
  now: z.string(),
  services: z.array(z.object({
    service: z.string(),
    strategy: z.string(),
    derived_from: z.string().nullable(),
    pools: z.array(z.object({
      model: z.string(),
      queue: z.object({ waiting: z.number().int(), size: z.number() }).nullable(),
      instances: z.array(z.object({
        id: z.string(),
        weight: z.number(),
        requests: z.number().int().openapi({ description: "Attempts sent to it" }),
        share: z.number().nullable().openapi({ description: "Its share of the pool's attempts" }),
        in_flight: z.number().int(),
        max_concurrency: z.number().nullable(),
        available: z.boolean(),
        recent: RecentSchema,
        load: LoadSchema,
      })),
    })),
  })),
}).openapi("LoadBalancingStats", {
  example: {
    object: "load_balancing.statistics",
    since: "2026-12-05T07:00:00.000Z",
    now: "2026-12-05T08:00:00.000Z",
    services: [{
      service: "chat",
      strategy: "least-load",
      derived_from: null,
      pools: [{
        model: "llama3",
        queue: null,
        instances: [{
          id: "llama3@http://gpu-1:8000/v1/chat/completions",
          weight: 1,
          requests: 70,
          share: 0.5645,
          in_flight: 2,
          max_concurrency: null,
          available: true,
          recent: EXAMPLE_RECENT,
          load: null,
        }],
      }],
    }],
  },
});

/** `GET /v1/health/models/{model}`. */
export const ModelHealthSchema = z.object({
  model: z.string(),
  status: OverallSchema.openapi({
    description: "Every instance available, some, or none",
  }),
  services: z.array(z.string()),
  instances: z.number().int(),
  available_instances: z.number().int(),
  details: z.array(z.object({
    id: z.string(),
    provider: z.string(),
    health: HealthStatusSchema,
    breaker: BreakerSchema,
    ejected: z.boolean(),
    available: z.boolean(),
    in_flight: z.number().int(),
    success_rate: z.number().nullable(),
  })),
}).openapi("ModelHealth", {
  example: {
    model: "llama3",
    status: "degraded",
    services: ["chat", "completion", "messages", "responses"],
    instances: 2,
    available_instances: 1,
    details: [{
      id: "llama3@http://gpu-1:8000/v1/chat/completions",
      provider: "vllm http://gpu-1:8000",
      health: "up",
      breaker: "closed",
      ejected: false,
      available: true,
      in_flight: 2,
      success_rate: 0.9857,
    }, {
      id: "llama3@http://gpu-2:8000/v1/chat/completions",
      provider: "vllm http://gpu-2:8000",
      health: "down",
      breaker: "open",
      ejected: false,
      available: false,
      in_flight: 0,
      success_rate: 0.2,
    }],
  },
});

/** `GET /v1/health/providers`, and what `POST /v1/stats/refresh` found. */
export const ProvidersHealthSchema = z.object({
  status: OverallSchema.openapi({ description: "No backend down, some, or all" }),
  now: z.string(),
  providers: z.array(z.object({
    provider: z.string(),
    base_url: z.string(),
    adapter: z.string(),
    ...ProviderHealthFields,
    last_ok_at: z.string().nullable(),
    instances: z.number().int(),
    available_instances: z.number().int(),
  })),
}).openapi("ProvidersHealth", {
  example: {
    status: "healthy",
    now: "2026-12-05T08:00:00.000Z",
    providers: [{
      provider: "vllm http://gpu-1:8000",
      base_url: "http://gpu-1:8000",
      adapter: "vllm",
      status: "up",
      reason: "probe answered 200",
      changed_at: "2026-12-05T07:00:01.000Z",
      last_failure: null,
      last_ok_at: "2026-12-05T07:59:55.000Z",
      instances: 1,
      available_instances: 1,
    }],
  },
});

/** `POST /v1/stats/refresh`. */
export const RefreshSchema = z.object({
  object: z.literal("stats.refresh"),
  health_probes: z.number().int().openapi({ description: "Backends probed" }),
  load_reads: z.number().int().openapi({ description: "Backends whose load was read" }),
  health: ProvidersHealthSchema,
}).openapi("StatsRefresh", {
  example: {
    object: "stats.refresh",
    health_probes: 1,
    load_reads: 1,
    health: {
      status: "healthy",
      now: "2026-12-05T08:00:00.000Z",
      providers: [],
    },
  },
});

/** `POST /v1/stats/reset`. */
export const ResetSchema = z.object({
  object: z.literal("stats.reset"),
  since: z.string().openapi({ description: "When counting began again" }),
}).openapi("StatsReset", {
  example: { object: "stats.reset", since: "2026-12-05T08:00:00.000Z" },
});

/** `POST /v1/models/clear-cache`. */
export const ClearCacheSchema = z.object({
  object: z.literal("models.clear_cache"),
  model_lists_read: z.number().int().openapi({ description: "Backends whose list was read" }),
  models: z.array(z.string()).openapi({ description: "The models served now" }),
}).openapi("ModelsClearCache", {
  example: {
    object: "models.clear_cache",
    model_lists_read: 1,
    models: ["llama3", "qwen2.5:7b"],
  },
});

/**
 * `GET /admin/metrics/history`: the last hour of client requests in buckets of ten seconds, for
 * the console's live charts: requests, failures, 429s and output tokens per second, time to
 * first token and inter-token latency, and the queues' length. Kept in memory, since start.
 * @module
 */
import { z } from "@hono/zod-openapi";
import { GatewayError } from "../errors.ts";
import type { GatewayApp } from "../gateway_env.ts";
import { SERVICE_TYPES, type ServiceType } from "../services.ts";
import type { MetricsHistory } from "../stats/metrics_history.ts";
import { ErrorSchema } from "../routes/schemas.ts";
import { ADMIN_ERRORS, jsonContent } from "./admin_api.ts";

const Rates = z.array(z.number());
const Values = z.array(z.number().nullable());
const LatencySchema = z.object({
  mean: Values,
  p50: Values,
  p95: Values,
});

const HistorySchema = z.object({
  service: z.enum(SERVICE_TYPES).nullable().describe("the service counted; null for all"),
  start: z.string().describe("ISO time the first bucket starts"),
  bucket_seconds: z.number().int().describe("how long each bucket spans"),
  last_bucket_seconds: z.number().describe(
    "how long the last bucket, the current one, has run: its rates are over that",
  ),
  requests_per_second: Rates.describe("requests finished"),
  errors_per_second: Rates.describe("requests answered 500 or more, or whose answer was cut"),
  rate_limited_per_second: Rates.describe("requests refused with 429"),
  output_tokens_per_second: Rates.describe(
    "tokens generated, as backends reported them, else counted from streamed events",
  ),
  time_to_first_token_ms: LatencySchema.describe(
    "from arrival to a stream's first chunk, over the streams that succeeded",
  ),
  inter_token_latency_ms: LatencySchema.describe(
    "each stream's mean gap between its events, over the streams that succeeded",
  ),
  queue_length: z.object({ mean: Values, max: Values }).describe(
    "requests waiting in the queues, sampled every second",
  ),
}).openapi("MetricsHistory", {
  example: {
    service: null,
    start: "2026-12-05T09:00:10.000Z",
    bucket_seconds: 10,
    last_bucket_seconds: 4.2,
    requests_per_second: [0, 1.2, 3.1],
    errors_per_second: [0, 0, 0.1],
    rate_limited_per_second: [0, 0, 0],
    output_tokens_per_second: [0, 84.5, 190],
    time_to_first_token_ms: {
      mean: [null, 220, 240],
      p50: [null, 210, 230],
      p95: [null, 410, 380],
    },
    inter_token_latency_ms: { mean: [null, 21, 23], p50: [null, 20, 22], p95: [null, 30, 35] },
    queue_length: { mean: [0, 0, 1.5], max: [0, 0, 3] },
  },
});

/** Mounts `GET /admin/metrics/history`. */
export function mountMetricsHistoryRoute(app: GatewayApp, history: MetricsHistory): void {
  app.openAPIRegistry.registerPath({
    method: "get",
    path: "/admin/metrics/history",
    tags: ["Admin: metrics"],
    summary: "The last hour of requests, errors, latencies, tokens and queue length",
    description: "A value per bucket of ten seconds, oldest first; a bucket without a sample " +
      "of a latency or the queue is null. Kept in memory since the gateway started.",
    request: {
      query: z.object({
        service: z.enum(SERVICE_TYPES).optional().openapi({
          description: "only this service's requests and queues",
        }),
      }),
    },
    responses: {
      200: { description: "The last hour", content: jsonContent(HistorySchema) },
      400: { description: "An unknown service", content: jsonContent(ErrorSchema) },
      ...ADMIN_ERRORS,
    },
  });
  app.get("/admin/metrics/history", (c) => {
    const service = serviceOf(c.req.query("service"));
    const window = history.read(service);
    return c.json(
      {
        service: service ?? null,
        start: new Date(window.start).toISOString(),
        bucket_seconds: window.bucketSeconds,
        last_bucket_seconds: window.lastBucketSeconds,
        requests_per_second: window.requestsPerSecond,
        errors_per_second: window.errorsPerSecond,
        rate_limited_per_second: window.rateLimitedPerSecond,
        output_tokens_per_second: window.outputTokensPerSecond,
        time_to_first_token_ms: window.timeToFirstToken,
        inter_token_latency_ms: window.interTokenLatency,
        queue_length: { mean: window.queueMean, max: window.queueMax },
      },
      200,
      { "cache-control": "no-store" },
    );
  });
}

/** The service asked for; none for all. */
function serviceOf(name: string | undefined): ServiceType | undefined {
  if (name === undefined || name === "") return undefined;
  if ((SERVICE_TYPES as readonly string[]).includes(name)) return name as ServiceType;
  throw new GatewayError(
    400,
    "invalid_request",
    `No service "${name}": use one of ${SERVICE_TYPES.join(", ")}`,
    { param: "service" },
  );
}

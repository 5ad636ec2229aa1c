/**
 * The OpenAPI shapes of the `/v1` API. Request bodies are described, never enforced: the proxy
 * forwards them byte for byte, and every field a backend understands is allowed.
 * @module
 */
import { z } from "@hono/zod-openapi";
import type { ServiceType } from "../services.ts";
import { BREAKER_STATUSES } from "../breaker/breaker.ts";
import { LIMIT_SCOPES } from "../limiter/types.ts";
import { INSTANCE_STATUSES } from "../config/schema.ts";

/** OpenAI's error shape, used for everything the gateway refuses itself. */
export const ErrorSchema = z.object({
  error: z.object({
    message: z.string(),
    type: z.string(),
    param: z.string().nullable(),
    code: z.string(),
  }),
}).openapi("Error");

const Model = z.string().openapi({ description: "A configured model name", example: "qwen3:1.7B" });
const Stream = z.boolean().optional().openapi({ description: "Send the answer as SSE events" });
const Binary = z.string().openapi({ type: "string", format: "binary" });

const ChatMessage = z.looseObject({
  role: z.string().openapi({ example: "user" }),
  content: z.union([z.string(), z.array(z.looseObject({})), z.null()]).optional(),
});

/** The services of the OpenAI API; the others have routes of their own. */
export type OpenAiServiceType = Exclude<ServiceType, "messages">;

/** Whether a service is one of the OpenAI API's. */
export function isOpenAiService(type: ServiceType): type is OpenAiServiceType {
  return type !== "messages";
}

/** The request body schema of each service (all permissive: extra fields are forwarded). */
export const REQUEST_SCHEMAS: Readonly<Record<OpenAiServiceType, z.ZodType>> = {
  chat: z.looseObject({ model: Model, messages: z.array(ChatMessage), stream: Stream })
    .openapi("ChatCompletionRequest"),
  completion: z.looseObject({
    model: Model,
    prompt: z.union([z.string(), z.array(z.string())]),
    stream: Stream,
  }).openapi("CompletionRequest"),
  responses: z.looseObject({
    model: Model,
    input: z.union([z.string(), z.array(z.looseObject({}))]),
    instructions: z.string().optional(),
    tools: z.array(z.looseObject({})).optional(),
    stream: Stream,
  }).openapi("ResponseRequest"),
  embedding: z.looseObject({
    model: Model,
    input: z.union([
      z.string(),
      z.array(z.string()),
      z.array(z.number()),
      z.array(z.array(z.number())),
    ]),
  }).openapi("EmbeddingRequest"),
  rerank: z.looseObject({
    model: Model,
    query: z.string(),
    documents: z.array(z.union([z.string(), z.looseObject({})])),
    top_n: z.number().int().optional(),
  }).openapi("RerankRequest"),
  tts: z.looseObject({
    model: Model,
    input: z.string(),
    voice: z.string().optional(),
    response_format: z.string().optional(),
  }).openapi("SpeechRequest"),
  stt: z.looseObject({
    model: Model,
    file: Binary,
    language: z.string().optional(),
    response_format: z.string().optional(),
  }).openapi("TranscriptionRequest"),
  imgGen: z.looseObject({
    model: Model,
    prompt: z.string(),
    n: z.number().int().optional(),
    size: z.string().optional(),
  }).openapi("ImageGenerationRequest"),
  imgEdit: z.looseObject({
    model: Model,
    image: Binary,
    mask: Binary.optional(),
    prompt: z.string(),
  }).openapi("ImageEditRequest"),
};

/** What each service answers with, for the document. */
export const RESPONSE_DESCRIPTIONS: Readonly<Record<OpenAiServiceType, string>> = {
  chat: "The backend's chat completion; `text/event-stream` when `stream` is true",
  completion: "The backend's completion; `text/event-stream` when `stream` is true",
  responses: "A Response object; `text/event-stream` of Responses events when `stream` is true. " +
    "Passed through from a backend that serves the Responses API, else translated from chat",
  embedding: "The backend's embeddings",
  rerank: "The backend's ranking",
  tts: "Audio bytes, streamed as the backend produces them",
  stt: "The transcription",
  imgGen: "The generated images",
  imgEdit: "The edited images",
};

/** `GET /v1/models`. */
/** One model, as `GET /v1/models/{id}` and each entry of the list show it. */
export const ModelSchema = z.object({
  id: z.string(),
  object: z.literal("model"),
  created: z.number().int(),
  owned_by: z.string(),
}).openapi("Model");

export const ModelListSchema = z.object({
  object: z.literal("list"),
  data: z.array(ModelSchema),
}).openapi("ModelList");

/** One rate limit in a status answer. */
export const LimitStatusSchema = z.object({
  policy: z.string().openapi({ description: "Where the limit is written, e.g. services.chat" }),
  scope: z.enum(LIMIT_SCOPES),
  algorithm: z.string(),
  capacity: z.number(),
  rate: z.number().openapi({ description: "Requests per second" }),
  trackedKeys: z.number().int().openapi({
    description: "Limiters held: one per client IP or API key seen lately, else one",
  }),
  remaining: z.number().int().nullable().openapi({
    description: "Requests it would admit now; null for per-client limits",
  }),
}).openapi("LimitStatus");

/** A circuit breaker in a status answer. */
export const BreakerStatusSchema = z.object({
  enabled: z.boolean(),
  status: z.enum(BREAKER_STATUSES),
  consecutiveFailures: z.number().int(),
  halfOpenSuccesses: z.number().int(),
  probesInFlight: z.number().int(),
  openedAt: z.string().nullable(),
  retryAt: z.string().nullable().openapi({ description: "When an open breaker lets probes in" }),
  opened: z.number().int().openapi({ description: "Times it opened since start" }),
  lastTransitionAt: z.string().nullable(),
}).openapi("BreakerStatus");

/** What an instance's model can take, where it is known. */
export const CapabilitiesStatusSchema = z.object({
  context: z.number().int().optional().openapi({ description: "Context length in tokens" }),
  vision: z.boolean().optional(),
  tools: z.boolean().optional(),
  audio: z.boolean().optional(),
}).openapi("Capabilities");

/** One instance in a status answer. */
export const InstanceStatusSchema = z.object({
  id: z.string(),
  name: z.string(),
  baseUrl: z.string(),
  path: z.string(),
  weight: z.number().int(),
  adapter: z.string(),
  status: z.enum(INSTANCE_STATUSES).openapi({
    description: "active takes requests; draining and disabled only finish those in flight",
  }),
  activeRequests: z.number().int(),
  activeTokens: z.number().int().openapi({
    description: "Estimated tokens (prompt and answer) of its requests in flight",
  }),
  requests: z.number().int(),
  failures: z.number().int(),
  lastError: z.object({ message: z.string(), at: z.string() }).nullable(),
  available: z.boolean().openapi({ description: "Whether selection may pick it now" }),
  health: z.object({
    status: z.enum(["unknown", "up", "down"]),
    changedAt: z.string().nullable().openapi({ description: "ISO time of the last change" }),
    reason: z.string().openapi({ description: "Why it last changed" }),
    lastFailure: z.string().nullable().openapi({ description: "The latest failed probe" }),
  }).openapi({ description: "Its backend's health, from active probes" }),
  ejection: z.object({
    ejected: z.boolean(),
    until: z.string().openapi({ description: "ISO time the ejection ends" }),
    reason: z.string(),
    ejections: z.number().int().openapi({ description: "Ejections in the current series" }),
  }).nullable().openapi({ description: "The latest ejection for failing real requests" }),
  discovered: z.array(z.string()).nullable().openapi({
    description: "Models its backend listed, when it discovers models",
  }),
  capabilities: CapabilitiesStatusSchema.nullable().openapi({
    description: "What its model can take, as configured",
  }),
  learnedCapabilities: z.record(z.string(), CapabilitiesStatusSchema).nullable().openapi({
    description: "What its backend tells each listed model can take; configured values win",
  }),
  load: z.object({
    running: z.number().optional(),
    waiting: z.number().optional(),
    kvCacheUsage: z.number().optional(),
    loadedModels: z.array(z.string()).optional(),
    at: z.string(),
  }).nullable().openapi({ description: "The load its backend last reported" }),
  breaker: BreakerStatusSchema.nullable().openapi({
    description: "Its circuit breaker, when one is configured",
  }),
  coolingDownUntil: z.string().nullable().openapi({
    description: "After a 429 with Retry-After: ISO time it is skipped until",
  }),
  maxConcurrency: z.number().int().nullable().openapi({
    description:
      "Requests it may have in flight at once; null when uncapped; with max-concurrency: auto, " +
      "the limit found so far",
  }),
  limits: z.array(LimitStatusSchema).openapi({ description: "Limits checked before it is picked" }),
}).openapi("InstanceStatus");

/** `GET /v1/<service>/status`. */
export const ServiceStatusSchema = z.object({
  service: z.string(),
  endpoint: z.string(),
  strategy: z.string(),
  derivedFrom: z.string().nullable().openapi({
    description: "Set when this service uses another's instances",
  }),
  settings: z.record(z.string(), z.unknown()),
  limits: z.array(LimitStatusSchema).openapi({ description: "Limits checked once per request" }),
  queues: z.array(z.object({
    model: z.string(),
    waiting: z.number().int(),
    size: z.number().int(),
  })).openapi({ description: "Models whose instances have a concurrency cap, and their queues" }),
  instances: z.array(InstanceStatusSchema),
}).openapi("ServiceStatus");

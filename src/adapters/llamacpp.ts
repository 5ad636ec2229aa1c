import { bearer, openAiModelList, success } from "./_readers.ts";
import { readLlamaCppMetrics } from "./llamacpp_metrics.ts";
import type { Capabilities } from "../config/schema.ts";
import { readLlamaCppSlots } from "./llamacpp_slots.ts";
import type { Adapter } from "./types.ts";

/**
 * llama.cpp's `llama-server`: OpenAI's API (Responses included) and Anthropic's Messages API under `/v1`, `GET /health` (503 while the model
 * loads), and its load in Prometheus `/metrics` when started with `--metrics`, else its busy
 * slots in `/slots`. Its `--api-key` is sent as a bearer token. `/props` tells its context per
 * request (`n_ctx` of a slot) and whether it takes images and audio (`modalities`).
 */
export const llamacpp: Adapter = {
  name: "llamacpp",
  title: "llama.cpp server",
  defaultPaths: {
    chat: "/v1/chat/completions",
    completion: "/v1/completions",
    embedding: "/v1/embeddings",
    rerank: "/v1/rerank",
    messages: "/v1/messages",
    responses: "/v1/responses",
  },
  health: { path: "/health", healthy: success },
  models: openAiModelList("/v1/models"),
  load: {
    path: "/metrics",
    format: "text",
    read: (body) => readLlamaCppMetrics(String(body)),
  },
  capabilities: { path: "/props", read: propsCapabilities },
  loadFallback: { path: "/slots", format: "json", read: readLlamaCppSlots },
  authHeader: bearer,
};

/**
 * What `/props` tells of the one model a llama-server serves: the context of a slot, which is
 * what one request gets, and the modalities its projector adds.
 */
function propsCapabilities(
  body: unknown,
  models: readonly string[],
): ReadonlyMap<string, Capabilities> {
  const props = (body ?? {}) as {
    default_generation_settings?: { n_ctx?: unknown } | null;
    modalities?: { vision?: unknown; audio?: unknown } | null;
  };
  const context = props.default_generation_settings?.n_ctx;
  const { vision, audio } = props.modalities ?? {};
  const capabilities: Capabilities = {
    ...(Number.isSafeInteger(context) && (context as number) > 0
      ? { context: context as number }
      : {}),
    ...(typeof vision === "boolean" ? { vision } : {}),
    ...(typeof audio === "boolean" ? { audio } : {}),
  };
  return new Map(models.map((model) => [model, capabilities]));
}

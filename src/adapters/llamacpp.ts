import { bearer, openAiModelList, success } from "./_readers.ts";
import { readLlamaCppMetrics } from "./llamacpp_metrics.ts";
import { readLlamaCppSlots } from "./llamacpp_slots.ts";
import type { Adapter } from "./types.ts";

/**
 * llama.cpp's `llama-server`: OpenAI's API (Responses included) and Anthropic's Messages API under `/v1`, `GET /health` (503 while the model
 * loads), and its load in Prometheus `/metrics` when started with `--metrics`, else its busy
 * slots in `/slots`. Its `--api-key` is sent as a bearer token.
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
  loadFallback: { path: "/slots", format: "json", read: readLlamaCppSlots },
  authHeader: bearer,
};

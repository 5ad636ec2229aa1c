import { bearer, openAiModelList, success } from "./_readers.ts";
import { readVllmMetrics } from "./vllm_metrics.ts";
import type { Adapter } from "./types.ts";

/** vLLM's OpenAI-compatible server: `GET /health`, and its load in Prometheus `/metrics`. */
export const vllm: Adapter = {
  name: "vllm",
  title: "vLLM",
  defaultPaths: {
    chat: "/v1/chat/completions",
    completion: "/v1/completions",
    messages: "/v1/messages",
    responses: "/v1/responses",
    embedding: "/v1/embeddings",
    rerank: "/v1/rerank",
    stt: "/v1/audio/transcriptions",
  },
  health: { path: "/health", healthy: success },
  models: openAiModelList("/v1/models"),
  load: {
    path: "/metrics",
    format: "text",
    read: (body) => readVllmMetrics(String(body)),
  },
  authHeader: bearer,
};

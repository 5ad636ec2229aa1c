import { bearer, openAiModelList, success } from "./_readers.ts";
import { readVllmMetrics } from "./vllm_metrics.ts";
import type { Capabilities } from "../config/schema.ts";
import type { Adapter } from "./types.ts";

/**
 * vLLM's OpenAI-compatible server: `GET /health`, its load in Prometheus `/metrics`, and each
 * model's context length as `max_model_len` in its model list.
 */
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
  capabilities: { path: "/v1/models", read: maxModelLengths },
  authHeader: bearer,
};

/** The context length of each model in vLLM's model list, its `max_model_len`. */
function maxModelLengths(body: unknown): ReadonlyMap<string, Capabilities> {
  const data = (body as { data?: unknown } | null)?.data;
  const lengths = new Map<string, Capabilities>();
  if (!Array.isArray(data)) return lengths;
  for (const entry of data) {
    const { id, max_model_len: context } = (entry ?? {}) as {
      id?: unknown;
      max_model_len?: unknown;
    };
    if (typeof id === "string" && Number.isSafeInteger(context) && (context as number) > 0) {
      lengths.set(id, { context: context as number });
    }
  }
  return lengths;
}

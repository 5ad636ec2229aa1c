import { answering, bearer, openAiModelList } from "./_readers.ts";
import type { Adapter } from "./types.ts";

/**
 * Tencent Hunyuan's OpenAI-compatible API: base URL `https://api.hunyuan.cloud.tencent.com`,
 * the API under `/v1`, the key as a bearer token.
 */
export const hunyuan: Adapter = {
  name: "hunyuan",
  title: "Tencent Hunyuan",
  defaultPaths: {
    chat: "/v1/chat/completions",
    embedding: "/v1/embeddings",
  },
  health: { path: "/v1/models", healthy: answering },
  models: openAiModelList("/v1/models"),
  authHeader: bearer,
};

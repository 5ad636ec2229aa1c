import { answering, bearer, openAiModelList } from "./_readers.ts";
import type { Adapter } from "./types.ts";

/**
 * Volcengine Ark (Doubao), base URL `https://ark.cn-beijing.volces.com`: its OpenAI-compatible
 * API under `/api/v3`, the key as a bearer token. `model` is a model id or an endpoint id
 * (`ep-…`).
 */
export const volcengine: Adapter = {
  name: "volcengine",
  title: "Volcengine Ark",
  defaultPaths: {
    chat: "/api/v3/chat/completions",
    embedding: "/api/v3/embeddings",
    imgGen: "/api/v3/images/generations",
  },
  health: { path: "/api/v3/models", healthy: answering },
  models: openAiModelList("/api/v3/models"),
  authHeader: bearer,
};

import { answering, bearer, openAiModelList } from "./_readers.ts";
import type { Adapter } from "./types.ts";

/**
 * OpenRouter, base URL `https://openrouter.ai`: its API under `/api/v1`, the key as a bearer
 * token. Its model list is public and large, so health is probed on `/api/v1/key`, which
 * describes the key in a few bytes.
 */
export const openrouter: Adapter = {
  name: "openrouter",
  title: "OpenRouter",
  defaultPaths: {
    chat: "/api/v1/chat/completions",
    completion: "/api/v1/completions",
    embedding: "/api/v1/embeddings",
  },
  health: { path: "/api/v1/key", healthy: answering },
  models: openAiModelList("/api/v1/models"),
  authHeader: bearer,
};

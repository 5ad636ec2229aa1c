import { answering, bearer, openAiModelList } from "./_readers.ts";
import type { Adapter } from "./types.ts";

/**
 * DeepSeek's API, base URL `https://api.deepseek.com`: chat at the root, fill-in-the-middle
 * completions under `/beta`, the key as a bearer token. It serves no embeddings.
 */
export const deepseek: Adapter = {
  name: "deepseek",
  title: "DeepSeek",
  defaultPaths: {
    chat: "/chat/completions",
    completion: "/beta/completions",
  },
  health: { path: "/models", healthy: answering },
  models: openAiModelList("/models"),
  authHeader: bearer,
};

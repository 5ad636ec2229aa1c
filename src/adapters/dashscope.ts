import { answering, bearer, openAiModelList } from "./_readers.ts";
import type { Adapter } from "./types.ts";

/**
 * Alibaba Cloud Model Studio (Bailian, DashScope) in its compatible mode: base URL
 * `https://dashscope.aliyuncs.com` (`https://dashscope-intl.aliyuncs.com` outside China), the
 * API under `/compatible-mode/v1`, the key as a bearer token.
 */
export const dashscope: Adapter = {
  name: "dashscope",
  title: "Alibaba Cloud Model Studio (DashScope)",
  defaultPaths: {
    chat: "/compatible-mode/v1/chat/completions",
    completion: "/compatible-mode/v1/completions",
    embedding: "/compatible-mode/v1/embeddings",
  },
  health: { path: "/compatible-mode/v1/models", healthy: answering },
  models: openAiModelList("/compatible-mode/v1/models"),
  authHeader: bearer,
};

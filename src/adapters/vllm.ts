import type { Adapter } from "./types.ts";

/** vLLM's OpenAI-compatible server. */
export const vllm: Adapter = {
  name: "vllm",
  defaultPaths: {
    chat: "/v1/chat/completions",
    completion: "/v1/completions",
    embedding: "/v1/embeddings",
    rerank: "/v1/rerank",
    stt: "/v1/audio/transcriptions",
  },
};

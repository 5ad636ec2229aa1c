import type { Adapter } from "./types.ts";

/** Ollama: chat, completions and embeddings on its OpenAI-compatible `/v1` API. */
export const ollama: Adapter = {
  name: "ollama",
  defaultPaths: {
    chat: "/v1/chat/completions",
    completion: "/v1/completions",
    embedding: "/v1/embeddings",
  },
};

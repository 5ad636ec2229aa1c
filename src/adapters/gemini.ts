import { answering, bearer, openAiModelList } from "./_readers.ts";
import type { Adapter, Reader } from "./types.ts";

const MODELS_PREFIX = "models/";

/**
 * Google Gemini through its OpenAI-compatible endpoint: base URL
 * `https://generativelanguage.googleapis.com`, the API under `/v1beta/openai`, the key as a
 * bearer token. Its model list names models `models/gemini-…` while chat accepts them with or
 * without the prefix, so both names route.
 */
export const gemini: Adapter = {
  name: "gemini",
  title: "Google Gemini",
  defaultPaths: {
    chat: "/v1beta/openai/chat/completions",
    embedding: "/v1beta/openai/embeddings",
    imgGen: "/v1beta/openai/images/generations",
  },
  health: { path: "/v1beta/openai/models", healthy: answering },
  models: withShortNames(openAiModelList("/v1beta/openai/models")),
  authHeader: bearer,
};

/** `list` with each `models/…` name followed by the same name without the prefix. */
function withShortNames(list: Reader<readonly string[]>): Reader<readonly string[]> {
  return {
    ...list,
    read(body) {
      const names = new Set<string>();
      for (const name of list.read(body)) {
        names.add(name);
        if (name.startsWith(MODELS_PREFIX)) names.add(name.slice(MODELS_PREFIX.length));
      }
      return [...names];
    },
  };
}

import { bearer, success } from "./_readers.ts";
import { ollamaTranslation } from "./ollama_native/exchange.ts";
import type { Adapter } from "./types.ts";

/**
 * Ollama: chat, completions, Responses (stateless) and embeddings, on its OpenAI-compatible
 * `/v1` API by default or on its native `/api/chat`, `/api/generate` and `/api/embed` when an instance's path says so.
 * Its model list is `/api/tags`; `/api/ps` tells which models are loaded in memory.
 */
export const ollama: Adapter = {
  name: "ollama",
  title: "Ollama",
  defaultPaths: {
    chat: "/v1/chat/completions",
    completion: "/v1/completions",
    messages: "/v1/messages",
    responses: "/v1/responses",
    embedding: "/v1/embeddings",
  },
  health: { path: "/api/version", healthy: success },
  models: {
    path: "/api/tags",
    format: "json",
    read: (body) => withShortNames(modelNames(body, "/api/tags")),
  },
  load: {
    path: "/api/ps",
    format: "json",
    read: (body) => ({ loadedModels: withShortNames(modelNames(body, "/api/ps")) }),
  },
  authHeader: bearer,
  translation: ollamaTranslation,
};

/** The `name` of each entry of Ollama's `{"models": [...]}` answers. */
function modelNames(body: unknown, path: string): string[] {
  const models = (body as { models?: unknown } | null)?.models;
  if (!Array.isArray(models)) throw new TypeError(`Expected ${path} to answer a models array`);
  return models.map((entry: unknown, index) => {
    const name = (entry as { name?: unknown; model?: unknown } | null)?.name ??
      (entry as { model?: unknown } | null)?.model;
    if (typeof name !== "string" || name === "") {
      throw new TypeError(`Expected models[${index}].name in ${path} to be a model name`);
    }
    return name;
  });
}

/** Ollama serves `llama3.2:latest` as `llama3.2` too, so both names route. */
function withShortNames(names: readonly string[]): string[] {
  const all = new Set<string>();
  for (const name of names) {
    all.add(name);
    if (name.endsWith(":latest")) all.add(name.slice(0, -":latest".length));
  }
  return [...all];
}

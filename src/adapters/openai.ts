import { answering, bearer, openAiModelList } from "./_readers.ts";
import type { Adapter } from "./types.ts";

/**
 * Any server that speaks the OpenAI API under `/v1` (also named `normal`, as in JAiRouter).
 * Such a server may have no health endpoint and may guard its model list, so any answer below
 * 500 to `GET /v1/models` shows it is up; only 5xx or no answer counts against it.
 */
export const openai: Adapter = {
  name: "openai",
  title: "OpenAI-compatible server",
  defaultPaths: {
    chat: "/v1/chat/completions",
    completion: "/v1/completions",
    embedding: "/v1/embeddings",
    rerank: "/v1/rerank",
    tts: "/v1/audio/speech",
    stt: "/v1/audio/transcriptions",
    imgGen: "/v1/images/generations",
    imgEdit: "/v1/images/edits",
  },
  health: { path: "/v1/models", healthy: answering },
  models: openAiModelList("/v1/models"),
  authHeader: bearer,
};

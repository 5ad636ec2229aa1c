import { bearer, openAiModelList, success } from "./_readers.ts";
import type { Adapter } from "./types.ts";

/** LocalAI: OpenAI's API under `/v1`, and a readiness endpoint. */
export const localai: Adapter = {
  name: "localai",
  title: "LocalAI",
  defaultPaths: {
    chat: "/v1/chat/completions",
    completion: "/v1/completions",
    embedding: "/v1/embeddings",
    rerank: "/v1/rerank",
    tts: "/v1/audio/speech",
    stt: "/v1/audio/transcriptions",
    imgGen: "/v1/images/generations",
  },
  health: { path: "/readyz", healthy: success },
  models: openAiModelList("/v1/models"),
  authHeader: bearer,
};

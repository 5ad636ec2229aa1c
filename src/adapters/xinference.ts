import { bearer, openAiModelList, success } from "./_readers.ts";
import type { Adapter } from "./types.ts";

/** Xorbits Inference: OpenAI's API under `/v1`, and a status endpoint. */
export const xinference: Adapter = {
  name: "xinference",
  title: "Xinference",
  defaultPaths: {
    chat: "/v1/chat/completions",
    completion: "/v1/completions",
    embedding: "/v1/embeddings",
    rerank: "/v1/rerank",
    tts: "/v1/audio/speech",
    stt: "/v1/audio/transcriptions",
    imgGen: "/v1/images/generations",
  },
  health: { path: "/status", healthy: success },
  models: openAiModelList("/v1/models"),
  authHeader: bearer,
};

import { bearer, openAiModelList, success } from "./_readers.ts";
import type { Adapter } from "./types.ts";

/** GPUStack: its OpenAI-compatible API lives under `/v1-openai`, rerank under `/v1`. */
export const gpustack: Adapter = {
  name: "gpustack",
  title: "GPUStack",
  defaultPaths: {
    chat: "/v1-openai/chat/completions",
    completion: "/v1-openai/completions",
    embedding: "/v1-openai/embeddings",
    rerank: "/v1/rerank",
    tts: "/v1-openai/audio/speech",
    stt: "/v1-openai/audio/transcriptions",
    imgGen: "/v1-openai/images/generations",
    imgEdit: "/v1-openai/images/edits",
  },
  health: { path: "/healthz", healthy: success },
  models: openAiModelList("/v1-openai/models"),
  authHeader: bearer,
};

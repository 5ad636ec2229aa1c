import type { Adapter } from "./types.ts";

/** Any server that speaks the OpenAI API under `/v1` (also named `normal`, as in JAiRouter). */
export const openai: Adapter = {
  name: "openai",
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
};

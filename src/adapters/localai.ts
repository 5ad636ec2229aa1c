import type { Adapter } from "./types.ts";

/** LocalAI. */
export const localai: Adapter = {
  name: "localai",
  defaultPaths: {
    chat: "/v1/chat/completions",
    completion: "/v1/completions",
    embedding: "/v1/embeddings",
    rerank: "/v1/rerank",
    tts: "/v1/audio/speech",
    stt: "/v1/audio/transcriptions",
    imgGen: "/v1/images/generations",
  },
};

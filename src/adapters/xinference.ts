import type { Adapter } from "./types.ts";

/** Xorbits Inference. */
export const xinference: Adapter = {
  name: "xinference",
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

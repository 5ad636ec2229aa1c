import { answering, openAiModelList } from "./_readers.ts";
import type { Adapter } from "./types.ts";

/**
 * Azure OpenAI, base URL `https://<resource>.openai.azure.com`, the key in an `api-key` header.
 * By default its v1 API (`/openai/v1/…`), which needs no `api-version` and takes the deployment
 * name as the body's `model`. An instance reaches a deployment's own endpoint by its `path`,
 * query included: `/openai/deployments/<deployment>/chat/completions?api-version=2024-10-21`.
 * The model list (`/openai/v1/models`) names the models the resource offers, not its
 * deployments.
 */
export const azureOpenai: Adapter = {
  name: "azure-openai",
  title: "Azure OpenAI",
  defaultPaths: {
    chat: "/openai/v1/chat/completions",
    completion: "/openai/v1/completions",
    embedding: "/openai/v1/embeddings",
    tts: "/openai/v1/audio/speech",
    stt: "/openai/v1/audio/transcriptions",
    imgGen: "/openai/v1/images/generations",
    imgEdit: "/openai/v1/images/edits",
  },
  health: { path: "/openai/v1/models", healthy: answering },
  models: openAiModelList("/openai/v1/models"),
  authHeader: (key) => ["api-key", key],
};

/**
 * Translations between OpenAI's API and Ollama's native API (`/api/chat`, `/api/generate`,
 * `/api/embed`): requests, answers, streams and errors. Pure functions: the caller forwards.
 * @module
 */
export { fromOllamaChat, toOllamaChat } from "./chat.ts";
export {
  type EmbedContext,
  type EmbedEncoding,
  embedEncodingOf,
  fromOllamaEmbed,
  toOllamaEmbed,
} from "./embed.ts";
export { type NativeEndpoint, nativeEndpointOf } from "./endpoint.ts";
export { fromOllamaError } from "./errors.ts";
export { fromOllamaGenerate, toOllamaGenerate } from "./generate.ts";
export { ndjsonToSse } from "./stream.ts";
export type { ByteSource, StreamTranslation, TranslationContext } from "./types.ts";

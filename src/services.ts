/**
 * The service types the gateway routes, and the client-facing endpoint of each.
 *
 * This table is the one place that ties a service type (the key used in the config, as in
 * JAiRouter: `chat`, `imgGen`…) to its `/v1` endpoint, its body kind and its status endpoint.
 * @module
 */

/** Every service type, in the order they are shown. */
export const SERVICE_TYPES = [
  "chat",
  "completion",
  "messages",
  "responses",
  "embedding",
  "rerank",
  "tts",
  "stt",
  "imgGen",
  "imgEdit",
] as const;

/** A service type, as spelled in the config's `services:` map. */
export type ServiceType = typeof SERVICE_TYPES[number];

/** How a service's request body is sent. */
export type BodyKind = "json" | "multipart";

/** The client-facing side of one service. */
export interface ServiceEndpoint {
  /** The `/v1` path clients POST to. */
  readonly path: string;
  /** The status path, as JAiRouter names it. */
  readonly statusPath: string;
  /** Whether clients send JSON or a multipart upload. */
  readonly body: BodyKind;
  /** A short human title, used in the OpenAPI document. */
  readonly title: string;
}

/** The endpoint of each service type. */
export const SERVICE_ENDPOINTS: Readonly<Record<ServiceType, ServiceEndpoint>> = {
  chat: {
    path: "/v1/chat/completions",
    statusPath: "/v1/chat/status",
    body: "json",
    title: "Chat completions",
  },
  completion: {
    path: "/v1/completions",
    statusPath: "/v1/completions/status",
    body: "json",
    title: "Text completions",
  },
  messages: {
    path: "/v1/messages",
    statusPath: "/v1/messages/status",
    body: "json",
    title: "Anthropic Messages",
  },
  responses: {
    path: "/v1/responses",
    statusPath: "/v1/responses/status",
    body: "json",
    title: "Responses",
  },
  embedding: {
    path: "/v1/embeddings",
    statusPath: "/v1/embeddings/status",
    body: "json",
    title: "Embeddings",
  },
  rerank: {
    path: "/v1/rerank",
    statusPath: "/v1/rerank/status",
    body: "json",
    title: "Rerank",
  },
  tts: {
    path: "/v1/audio/speech",
    statusPath: "/v1/audio/speech/status",
    body: "json",
    title: "Text to speech",
  },
  stt: {
    path: "/v1/audio/transcriptions",
    statusPath: "/v1/audio/transcriptions/status",
    body: "multipart",
    title: "Speech to text",
  },
  imgGen: {
    path: "/v1/images/generations",
    statusPath: "/v1/images/generations/status",
    body: "json",
    title: "Image generation",
  },
  imgEdit: {
    path: "/v1/images/edits",
    statusPath: "/v1/images/edits/status",
    body: "multipart",
    title: "Image edits",
  },
};

/**
 * What the translations need to know about the request they answer.
 * @module
 */

/** The request an answer belongs to; the caller makes the id and reads the clock. */
export interface TranslationContext {
  /** The response id, e.g. `chatcmpl-…` or `cmpl-…`. */
  readonly id: string;
  /** When the answer was made, in unix seconds. */
  readonly created: number;
  /** The model the client asked for, named when the backend's answer names none. */
  readonly model: string;
}

/** Options for `ndjsonToSse`: which answer the stream carries, and whether to report usage. */
export interface StreamTranslation extends TranslationContext {
  /** `chat` for `/api/chat` streams, `generate` for `/api/generate` streams. */
  readonly kind: "chat" | "generate";
  /** The client's `stream_options.include_usage`: end with a chunk holding only `usage`. */
  readonly includeUsage: boolean;
}

/**
 * Where a streamed answer's bytes come from: a stream's reader, or any reader alike (the
 * gateway's reads through one reused buffer).
 */
export type ByteSource = Pick<ReadableStreamDefaultReader<Uint8Array>, "read" | "cancel">;

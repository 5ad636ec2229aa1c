/**
 * The Anthropic Messages API on the wire, as zod schemas: the request a client sends to
 * `POST /v1/messages` and `POST /v1/messages/count_tokens`, and the answer and stream events
 * it gets. The request schemas are strict: they hold exactly what the translation to chat
 * completions carries over, so any other field is refused by name rather than dropped.
 * @module
 */
import { z } from "@hono/zod-openapi";

/** A prompt-caching hint; it changes what a request costs on Anthropic, never its answer. */
const CacheControl = z.looseObject({ type: z.string() }).nullable().optional();

/** `{"type": "text", "text": …}`. */
export const TextBlockParam = z.strictObject({
  type: z.literal("text"),
  text: z.string(),
  cache_control: CacheControl,
  citations: z.array(z.looseObject({})).nullable().optional(),
});

const Base64ImageSource = z.strictObject({
  type: z.literal("base64"),
  media_type: z.enum(["image/jpeg", "image/png", "image/gif", "image/webp"]),
  data: z.string(),
});
const UrlSource = z.strictObject({ type: z.literal("url"), url: z.string() });
const FileSource = z.strictObject({ type: z.literal("file"), file_id: z.string() });

/** An image, inline (base64) or by URL; a Files API `file` source has no chat equivalent. */
export const ImageBlockParam = z.strictObject({
  type: z.literal("image"),
  source: z.discriminatedUnion("type", [Base64ImageSource, UrlSource, FileSource]),
  cache_control: CacheControl,
});

const PlainTextSource = z.strictObject({
  type: z.literal("text"),
  media_type: z.literal("text/plain"),
  data: z.string(),
});
const Base64PdfSource = z.strictObject({
  type: z.literal("base64"),
  media_type: z.literal("application/pdf"),
  data: z.string(),
});
const ContentSource = z.strictObject({
  type: z.literal("content"),
  content: z.union([z.string(), z.array(z.looseObject({ type: z.string() }))]),
});

/** A document: plain text translates to text; a PDF, a URL or a file does not. */
export const DocumentBlockParam = z.strictObject({
  type: z.literal("document"),
  source: z.discriminatedUnion("type", [
    PlainTextSource,
    Base64PdfSource,
    UrlSource,
    ContentSource,
    FileSource,
  ]),
  title: z.string().nullable().optional(),
  context: z.string().nullable().optional(),
  citations: z.looseObject({}).nullable().optional(),
  cache_control: CacheControl,
});

/** A call of a client tool the assistant made, in the conversation so far. */
export const ToolUseBlockParam = z.strictObject({
  type: z.literal("tool_use"),
  id: z.string(),
  name: z.string(),
  input: z.unknown(),
  cache_control: CacheControl,
});

/** What a client tool returned, sent back by the user. */
export const ToolResultBlockParam = z.strictObject({
  type: z.literal("tool_result"),
  tool_use_id: z.string(),
  content: z.union([
    z.string(),
    z.array(z.discriminatedUnion("type", [
      TextBlockParam,
      ImageBlockParam,
    ])),
  ]).optional(),
  is_error: z.boolean().optional(),
  cache_control: CacheControl,
});

/** The assistant's reasoning in an earlier turn. */
export const ThinkingBlockParam = z.strictObject({
  type: z.literal("thinking"),
  thinking: z.string(),
  signature: z.string(),
});

/** Reasoning Anthropic encrypted: no other backend can read it. */
export const RedactedThinkingBlockParam = z.strictObject({
  type: z.literal("redacted_thinking"),
  data: z.string(),
});

/** Every content block a request's message may hold. */
export const ContentBlockParam = z.discriminatedUnion("type", [
  TextBlockParam,
  ImageBlockParam,
  DocumentBlockParam,
  ToolUseBlockParam,
  ToolResultBlockParam,
  ThinkingBlockParam,
  RedactedThinkingBlockParam,
]);
export type ContentBlockParam = z.infer<typeof ContentBlockParam>;

/** One turn of the conversation. */
export const MessageParam = z.strictObject({
  role: z.enum(["user", "assistant"]),
  content: z.union([z.string(), z.array(ContentBlockParam)]),
});
export type MessageParam = z.infer<typeof MessageParam>;

/** A client tool: a function the model may call, described by a JSON schema. */
export const ToolParam = z.strictObject({
  type: z.literal("custom").nullable().optional(),
  name: z.string(),
  description: z.string().optional(),
  input_schema: z.looseObject({ type: z.literal("object") }),
  strict: z.boolean().optional(),
  cache_control: CacheControl,
});
export type ToolParam = z.infer<typeof ToolParam>;

/** How the model may use the tools. */
export const ToolChoice = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("auto"), disable_parallel_tool_use: z.boolean().optional() }),
  z.strictObject({ type: z.literal("any"), disable_parallel_tool_use: z.boolean().optional() }),
  z.strictObject({
    type: z.literal("tool"),
    name: z.string(),
    disable_parallel_tool_use: z.boolean().optional(),
  }),
  z.strictObject({ type: z.literal("none") }),
]);
export type ToolChoice = z.infer<typeof ToolChoice>;

/** Extended thinking: on with a token budget, left to the model, or off. */
export const ThinkingConfig = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("enabled"), budget_tokens: z.number().int() }),
  z.strictObject({ type: z.literal("adaptive") }),
  z.strictObject({ type: z.literal("disabled") }),
]);
export type ThinkingConfig = z.infer<typeof ThinkingConfig>;

/** The fields a Messages request and a token count share. */
const conversation = {
  model: z.string().openapi({ description: "A configured model name" }),
  messages: z.array(MessageParam),
  system: z.union([z.string(), z.array(TextBlockParam)]).optional(),
  tools: z.array(ToolParam).optional(),
  tool_choice: ToolChoice.optional(),
  thinking: ThinkingConfig.optional(),
};

/** `POST /v1/messages`: the fields a chat-only backend can be given. */
export const MessagesRequest = z.strictObject({
  ...conversation,
  max_tokens: z.number().int().positive(),
  stream: z.boolean().optional(),
  stop_sequences: z.array(z.string()).optional(),
  temperature: z.number().optional(),
  top_p: z.number().optional(),
  top_k: z.number().int().optional(),
  metadata: z.strictObject({ user_id: z.string().nullable().optional() }).optional(),
}).openapi("MessagesRequest");
export type MessagesRequest = z.infer<typeof MessagesRequest>;

/** `POST /v1/messages/count_tokens`. */
export const CountTokensRequest = z.strictObject(conversation).openapi("CountTokensRequest");

/** Why the model stopped. */
export type StopReason = "end_turn" | "max_tokens" | "stop_sequence" | "tool_use" | "refusal";

/** A content block of an answer. */
export type ContentBlock =
  | { readonly type: "text"; readonly text: string }
  | { readonly type: "thinking"; readonly thinking: string; readonly signature: string }
  | {
    readonly type: "tool_use";
    readonly id: string;
    readonly name: string;
    readonly input: unknown;
  };

/** Token counts of an answer. */
export interface Usage {
  readonly input_tokens: number;
  readonly output_tokens: number;
}

/** The answer to a Messages request. */
export interface Message {
  readonly id: string;
  readonly type: "message";
  readonly role: "assistant";
  readonly model: string;
  readonly content: readonly ContentBlock[];
  readonly stop_reason: StopReason | null;
  readonly stop_sequence: string | null;
  readonly usage: Usage;
}

/** Anthropic's error types, by the status each goes with. */
export type ErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "permission_error"
  | "not_found_error"
  | "request_too_large"
  | "rate_limit_error"
  | "api_error"
  | "overloaded_error";

/** Anthropic's error body. */
export interface ErrorBody {
  readonly type: "error";
  readonly error: { readonly type: ErrorType; readonly message: string };
}

/** The OpenAPI shape of {@linkcode ErrorBody}. */
export const ErrorBodySchema = z.object({
  type: z.literal("error"),
  error: z.object({ type: z.string(), message: z.string() }),
}).openapi("AnthropicError");

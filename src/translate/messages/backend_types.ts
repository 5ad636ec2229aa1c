/**
 * What an Anthropic backend answers to a Messages request: the whole message, the events of its
 * stream, and its error body. Read loosely: fields the translation does not use are let through,
 * so a newer API version that adds some still reads.
 * @module
 */
import { z } from "zod";

/** A block of an answer's `content`; blocks of other types are carried as they are. */
export const AnthropicContentBlock = z.discriminatedUnion("type", [
  z.looseObject({ type: z.literal("text"), text: z.string() }),
  z.looseObject({
    type: z.literal("tool_use"),
    id: z.string(),
    name: z.string(),
    input: z.unknown(),
  }),
  z.looseObject({ type: z.literal("thinking"), thinking: z.string() }),
  z.looseObject({ type: z.literal("redacted_thinking") }),
]);

/** A block of an answer's `content`. */
export type AnthropicContentBlock = z.infer<typeof AnthropicContentBlock>;

/** Token counts, as `message_start`, `message_delta` and a whole answer report them. */
export const AnthropicUsage = z.looseObject({
  input_tokens: z.number().nullish(),
  output_tokens: z.number().nullish(),
  cache_creation_input_tokens: z.number().nullish(),
  cache_read_input_tokens: z.number().nullish(),
});

/** Token counts of an answer. */
export type AnthropicUsage = z.infer<typeof AnthropicUsage>;

/** A whole (not streamed) answer: `{"type": "message", ...}`. */
export const AnthropicMessage = z.looseObject({
  type: z.literal("message"),
  id: z.string(),
  model: z.string(),
  role: z.literal("assistant"),
  content: z.array(AnthropicContentBlock),
  stop_reason: z.string().nullable(),
  usage: AnthropicUsage,
});

/** A whole answer. */
export type AnthropicMessage = z.infer<typeof AnthropicMessage>;

/** What a streamed `message_start` carries: the message, still without content. */
const MessageStart = z.looseObject({
  type: z.literal("message_start"),
  message: z.looseObject({ model: z.string(), usage: AnthropicUsage.optional() }),
});

const BlockDelta = z.discriminatedUnion("type", [
  z.looseObject({ type: z.literal("text_delta"), text: z.string() }),
  z.looseObject({ type: z.literal("input_json_delta"), partial_json: z.string() }),
  z.looseObject({ type: z.literal("thinking_delta"), thinking: z.string() }),
  z.looseObject({ type: z.literal("signature_delta") }),
]);

/** The error of an error body or an `error` event. */
export const AnthropicErrorDetail = z.looseObject({ type: z.string(), message: z.string() });

/** One event of a streamed answer, by its `type`. */
export const AnthropicStreamEvent = z.discriminatedUnion("type", [
  MessageStart,
  z.looseObject({
    type: z.literal("content_block_start"),
    index: z.number(),
    content_block: AnthropicContentBlock,
  }),
  z.looseObject({ type: z.literal("content_block_delta"), index: z.number(), delta: BlockDelta }),
  z.looseObject({ type: z.literal("content_block_stop"), index: z.number() }),
  z.looseObject({
    type: z.literal("message_delta"),
    delta: z.looseObject({ stop_reason: z.string().nullish() }),
    usage: AnthropicUsage.optional(),
  }),
  z.looseObject({ type: z.literal("message_stop") }),
  z.looseObject({ type: z.literal("ping") }),
  z.looseObject({ type: z.literal("error"), error: AnthropicErrorDetail }),
]);

/** One event of a streamed answer. */
export type AnthropicStreamEvent = z.infer<typeof AnthropicStreamEvent>;

/** An error answer: `{"type": "error", "error": {"type": …, "message": …}}`. */
export const AnthropicErrorBody = z.looseObject({
  type: z.literal("error"),
  error: AnthropicErrorDetail,
});

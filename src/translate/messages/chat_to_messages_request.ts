/**
 * An OpenAI chat-completions request as an Anthropic Messages request. Every field is mapped or
 * refused with a 400 naming it: nothing the client sent is dropped without a word.
 * @module
 */
import { unsupported } from "./chat_to_messages_fields.ts";
import {
  boolean,
  invalid,
  isRecord,
  list,
  number,
  positiveInteger,
  record,
  show,
  string,
} from "../../lib/request_fields.ts";

/**
 * The `max_tokens` sent when the client sets no limit: Messages requires one, OpenAI does not.
 * Every current Claude model can produce this many tokens.
 */
export const DEFAULT_MAX_TOKENS = 4096;

/** A Messages request being built from the client's fields. */
interface Draft {
  readonly out: Record<string, unknown>;
  system: Record<string, unknown>[];
  maxTokens: { readonly value: number; readonly param: string } | undefined;
  toolChoice: Record<string, unknown> | undefined;
  parallelToolCalls: boolean;
}

type FieldHandler = (value: unknown, param: string, draft: Draft) => void;

/** Fields that ask for nothing when they hold OpenAI's default, and have no place otherwise. */
function onlyDefault(accepted: unknown): FieldHandler {
  return function onlyDefault(value, param) {
    if (value !== accepted) throw unsupported(param, value);
  };
}

const maxTokens: FieldHandler = function maxTokens(value, param, draft) {
  const limit = positiveInteger(value, param);
  const earlier = draft.maxTokens;
  if (earlier !== undefined && earlier.value !== limit) {
    throw invalid(param, `"${param}" = ${limit} contradicts "${earlier.param}" = ${earlier.value}`);
  }
  draft.maxTokens = { value: limit, param };
};

const HANDLERS: Readonly<Record<string, FieldHandler>> = {
  model(value, param, draft) {
    const model = string(value, param);
    if (model === "") throw invalid(param, 'Request must name a model in the "model" field');
    draft.out.model = model;
  },
  messages(value, param, draft) {
    const { system, messages } = toMessages(value, param);
    draft.system = system;
    draft.out.messages = messages;
  },
  stream(value, param, draft) {
    if (boolean(value, param)) draft.out.stream = true;
  },
  stream_options(value, param) {
    for (const [key, option] of Object.entries(record(value, param))) {
      if (key === "include_usage") boolean(option, `${param}.${key}`);
      else if (option !== null) throw unsupported(`${param}.${key}`);
    }
  },
  max_tokens: maxTokens,
  max_completion_tokens: maxTokens,
  temperature(value, param, draft) {
    draft.out.temperature = number(value, param);
  },
  top_p(value, param, draft) {
    draft.out.top_p = number(value, param);
  },
  // Not OpenAI's, but sent by clients of vLLM and others; Messages has it.
  top_k(value, param, draft) {
    draft.out.top_k = positiveInteger(value, param);
  },
  stop(value, param, draft) {
    const stops = typeof value === "string"
      ? [value]
      : list(value, param).map((stop, index) => string(stop, `${param}[${index}]`));
    if (stops.length > 0) draft.out.stop_sequences = stops;
  },
  user(value, param, draft) {
    draft.out.metadata = { user_id: string(value, param) };
  },
  tools(value, param, draft) {
    draft.out.tools = list(value, param).map((tool, index) => toTool(tool, `${param}[${index}]`));
  },
  tool_choice(value, param, draft) {
    draft.toolChoice = toToolChoice(value, param);
  },
  parallel_tool_calls(value, param, draft) {
    draft.parallelToolCalls = boolean(value, param);
  },
  n: onlyDefault(1),
  logprobs: onlyDefault(false),
  store: onlyDefault(false),
  frequency_penalty: onlyDefault(0),
  presence_penalty: onlyDefault(0),
  response_format(value, param) {
    const format = record(value, param);
    if (format.type !== "text") throw unsupported(`${param}.type`, format.type);
  },
};

/**
 * Translates an OpenAI chat-completions request body into a Messages request body; throws a
 * 400 `GatewayError` for a field Messages has no place for, or a malformed one. A request
 * without `max_tokens` or `max_completion_tokens` gets {@linkcode DEFAULT_MAX_TOKENS}.
 */
export function toMessagesRequest(
  body: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const draft: Draft = {
    out: {},
    system: [],
    maxTokens: undefined,
    toolChoice: undefined,
    parallelToolCalls: true,
  };
  for (const [key, value] of Object.entries(body)) {
    // `null` is OpenAI's way of leaving a field unset.
    if (value === null) continue;
    const handler = Object.hasOwn(HANDLERS, key) ? HANDLERS[key] : undefined;
    if (handler === undefined) throw unsupported(key);
    handler(value, key, draft);
  }
  const { out } = draft;
  if (out.model === undefined) {
    throw invalid("model", 'Request must name a model in the "model" field');
  }
  if (out.messages === undefined) {
    throw invalid("messages", 'Request must carry its conversation in the "messages" field');
  }
  if (body.stream_options != null && body.stream !== true) {
    throw invalid("stream_options", '"stream_options" is only allowed when "stream" is true');
  }
  out.max_tokens = draft.maxTokens?.value ?? DEFAULT_MAX_TOKENS;
  if (draft.system.length > 0) out.system = draft.system;
  const toolChoice = draft.toolChoice ??
    (draft.parallelToolCalls || out.tools === undefined ? undefined : { type: "auto" });
  if (toolChoice !== undefined) {
    // With `none`, no tool is called at all: Messages has no place for the flag there.
    if (!draft.parallelToolCalls && toolChoice.type !== "none") {
      toolChoice.disable_parallel_tool_use = true;
    }
    out.tool_choice = toolChoice;
  }
  return out;
}

function toTool(value: unknown, param: string): Record<string, unknown> {
  const tool = record(value, param);
  for (const key of Object.keys(tool)) {
    if (key !== "type" && key !== "function" && tool[key] !== null) {
      throw unsupported(`${param}.${key}`);
    }
  }
  if (tool.type !== "function") throw unsupported(`${param}.type`, tool.type);
  const fn = record(tool.function, `${param}.function`);
  const out: Record<string, unknown> = { name: string(fn.name, `${param}.function.name`) };
  for (const [key, field] of Object.entries(fn)) {
    if (field === null || key === "name") continue;
    const fieldParam = `${param}.function.${key}`;
    if (key === "description") out.description = string(field, fieldParam);
    else if (key === "parameters") out.input_schema = record(field, fieldParam);
    else if (key === "strict" && field === false) continue;
    else throw unsupported(fieldParam, key === "strict" ? field : undefined);
  }
  // A function without parameters takes none; Messages requires the schema.
  out.input_schema ??= { type: "object", properties: {} };
  return out;
}

function toToolChoice(value: unknown, param: string): Record<string, unknown> {
  if (value === "auto") return { type: "auto" };
  if (value === "none") return { type: "none" };
  if (value === "required") return { type: "any" };
  if (typeof value === "string") {
    throw invalid(param, `Unknown "${param}" ${show(value)}: expected auto, none or required`);
  }
  const choice = record(value, param);
  if (choice.type !== "function") throw unsupported(`${param}.type`, choice.type);
  const fn = record(choice.function, `${param}.function`);
  return { type: "tool", name: string(fn.name, `${param}.function.name`) };
}

/** An Anthropic turn: its role and its content blocks. */
interface Turn {
  readonly role: "user" | "assistant";
  readonly content: Record<string, unknown>[];
}

/**
 * The conversation as Messages wants it: system and developer messages in `system`, tool
 * results as `tool_result` blocks of a user turn, and consecutive turns of one role as one turn
 * (which is what Anthropic makes of them too).
 */
function toMessages(
  value: unknown,
  param: string,
): { system: Record<string, unknown>[]; messages: Turn[] } {
  const messages = list(value, param);
  if (messages.length === 0) {
    throw invalid(param, `Expected "${param}" to hold at least one message`);
  }
  const system: Record<string, unknown>[] = [];
  const turns: Turn[] = [];
  const push = (turn: Turn) => {
    const last = turns.at(-1);
    if (last !== undefined && last.role === turn.role) last.content.push(...turn.content);
    else turns.push(turn);
  };
  messages.forEach((item, index) => {
    const messageParam = `${param}[${index}]`;
    const message = record(item, messageParam);
    const role = message.role;
    switch (role) {
      case "system":
      case "developer":
        system.push(...textBlocks(message, messageParam));
        return;
      case "user":
        return push({ role: "user", content: userContent(message, messageParam) });
      case "assistant":
        return push({ role: "assistant", content: assistantContent(message, messageParam) });
      case "tool":
        return push({ role: "user", content: [toolResult(message, messageParam)] });
      case "function":
        throw unsupported(`${messageParam}.role`, role);
      default:
        throw invalid(
          `${messageParam}.role`,
          `Unknown role ${show(role)} in "${messageParam}.role"`,
        );
    }
  });
  return { system, messages: turns };
}

/** Refuses any field of `message` but `role` and those named. */
function onlyFields(
  message: Record<string, unknown>,
  param: string,
  allowed: readonly string[],
): void {
  for (const [key, field] of Object.entries(message)) {
    if (field !== null && key !== "role" && !allowed.includes(key)) {
      throw unsupported(`${param}.${key}`);
    }
  }
}

/** A message whose content is text only (string or text parts), as text blocks. */
function textBlocks(message: Record<string, unknown>, param: string): Record<string, unknown>[] {
  onlyFields(message, param, ["content"]);
  return textsOf(message.content, `${param}.content`).map((text) => ({ type: "text", text }));
}

function textsOf(value: unknown, param: string): string[] {
  if (typeof value === "string") return [value];
  return list(value, param).map((item, index) => {
    const partParam = `${param}[${index}]`;
    const part = record(item, partParam);
    if (part.type !== "text") throw unsupported(`${partParam}.type`, part.type);
    return string(part.text, `${partParam}.text`);
  });
}

function userContent(message: Record<string, unknown>, param: string): Record<string, unknown>[] {
  onlyFields(message, param, ["content"]);
  const contentParam = `${param}.content`;
  if (typeof message.content === "string") return [{ type: "text", text: message.content }];
  return list(message.content, contentParam).map((item, index) => {
    const partParam = `${contentParam}[${index}]`;
    const part = record(item, partParam);
    if (part.type === "text") return { type: "text", text: string(part.text, `${partParam}.text`) };
    if (part.type === "image_url") return imageBlock(part.image_url, `${partParam}.image_url`);
    throw unsupported(`${partParam}.type`, part.type);
  });
}

/** An `image_url` part: a base64 `data:` URL inline, an http(s) URL by reference. */
function imageBlock(value: unknown, param: string): Record<string, unknown> {
  const image = record(value, param);
  if (image.detail != null && image.detail !== "auto") {
    throw unsupported(`${param}.detail`, image.detail);
  }
  const url = string(image.url, `${param}.url`);
  if (/^https?:\/\//i.test(url)) return { type: "image", source: { type: "url", url } };
  const comma = url.indexOf(",");
  const header = /^data:(image\/[^;,]+)((?:;[^;,]*)*)$/i.exec(url.slice(0, Math.max(comma, 0)));
  if (comma < 0 || header === null || !/;base64$/i.test(header[2] ?? "")) {
    throw invalid(
      `${param}.url`,
      `Expected "${param}.url" to be an http(s) URL or a base64 data: URL with an image media ` +
        `type, got ${show(url)}`,
    );
  }
  return {
    type: "image",
    source: { type: "base64", media_type: header[1]!.toLowerCase(), data: url.slice(comma + 1) },
  };
}

function assistantContent(
  message: Record<string, unknown>,
  param: string,
): Record<string, unknown>[] {
  onlyFields(message, param, ["content", "tool_calls"]);
  const blocks: Record<string, unknown>[] = [];
  const content = message.content;
  if (typeof content === "string") {
    if (content !== "") blocks.push({ type: "text", text: content });
  } else if (content != null) {
    list(content, `${param}.content`).forEach((item, index) => {
      const partParam = `${param}.content[${index}]`;
      const part = record(item, partParam);
      if (part.type === "text") {
        blocks.push({ type: "text", text: string(part.text, `${partParam}.text`) });
      } else if (part.type === "refusal") {
        blocks.push({ type: "text", text: string(part.refusal, `${partParam}.refusal`) });
      } else {
        throw unsupported(`${partParam}.type`, part.type);
      }
    });
  }
  if (message.tool_calls != null) {
    list(message.tool_calls, `${param}.tool_calls`).forEach((call, index) => {
      blocks.push(toolUse(call, `${param}.tool_calls[${index}]`));
    });
  }
  return blocks;
}

function toolUse(value: unknown, param: string): Record<string, unknown> {
  const call = record(value, param);
  if (call.type !== undefined && call.type !== "function") {
    throw unsupported(`${param}.type`, call.type);
  }
  const fn = record(call.function, `${param}.function`);
  const text = string(fn.arguments, `${param}.function.arguments`);
  let input: unknown;
  try {
    // Some clients send no arguments at all for a function without parameters.
    input = text.trim() === "" ? {} : JSON.parse(text);
  } catch {
    input = undefined;
  }
  if (!isRecord(input)) {
    throw invalid(
      `${param}.function.arguments`,
      `Expected "${param}.function.arguments" to be a JSON object, got ${show(text)}`,
    );
  }
  return {
    type: "tool_use",
    id: string(call.id, `${param}.id`),
    name: string(fn.name, `${param}.function.name`),
    input,
  };
}

function toolResult(message: Record<string, unknown>, param: string): Record<string, unknown> {
  onlyFields(message, param, ["content", "tool_call_id"]);
  const texts = textsOf(message.content, `${param}.content`);
  return {
    type: "tool_result",
    tool_use_id: string(message.tool_call_id, `${param}.tool_call_id`),
    content: typeof message.content === "string"
      ? message.content
      : texts.map((text) => ({ type: "text", text })),
  };
}

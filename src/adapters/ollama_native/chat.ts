/**
 * OpenAI chat completions and Ollama's native `/api/chat`: the request one way, the answer the
 * other. Streamed answers are translated by `ndjsonToSse`.
 * @module
 */
import { GatewayError } from "../../errors.ts";
import {
  finishReason,
  modelOf,
  readChatAnswer,
  type ToolCall,
  toolCallOf,
  usageOf,
} from "./_answer.ts";
import {
  type FieldHandler,
  finishDraft,
  GENERATION_FIELDS,
  numPredict,
  setOnce,
  translateFields,
  unsupported,
} from "./_request.ts";
import { boolean, invalid, list, record, show, string } from "../../lib/request_fields.ts";
import type { TranslationContext } from "./types.ts";

const PATH = "/api/chat";

/**
 * Translates an OpenAI chat-completions request body into an `/api/chat` body; throws a
 * 400 `GatewayError` for a field Ollama cannot honour or a malformed one.
 */
export function toOllamaChat(body: Readonly<Record<string, unknown>>): Record<string, unknown> {
  let toolChoice = "auto";
  const draft = translateFields(body, PATH, {
    ...GENERATION_FIELDS,
    messages(value, param, draft) {
      draft.out.messages = toOllamaMessages(value, param);
    },
    tools(value, param, draft) {
      list(value, param).forEach((tool, index) => record(tool, `${param}[${index}]`));
      draft.out.tools = value;
    },
    tool_choice(value, param) {
      if (value !== "auto" && value !== "none") throw unsupported(PATH, param, value);
      toolChoice = value;
    },
    max_tokens: numPredict,
    max_completion_tokens: numPredict,
    // `false` is OpenAI's default and asks for nothing Ollama does not do.
    logprobs(value, param) {
      if (boolean(value, param)) throw unsupported(PATH, param, value);
    },
    response_format: responseFormat,
    reasoning_effort(value, param, draft) {
      if (value === "low" || value === "medium" || value === "high") {
        setOnce(draft, "think", value, param);
      } else if (value === "none") {
        setOnce(draft, "think", false, param);
      } else {
        throw unsupported(PATH, param, value);
      }
    },
  });
  if (draft.out.messages === undefined) {
    throw invalid("messages", 'Request must carry its conversation in the "messages" field');
  }
  if (toolChoice === "none") delete draft.out.tools;
  return finishDraft(draft, body, { streams: true });
}

const responseFormat: FieldHandler = function responseFormat(value, param, draft) {
  const format = record(value, param);
  switch (format.type) {
    case "text":
      return;
    case "json_object":
      return setOnce(draft, "format", "json", param);
    case "json_schema": {
      const jsonSchema = record(format.json_schema, `${param}.json_schema`);
      const schema = record(jsonSchema.schema, `${param}.json_schema.schema`);
      return setOnce(draft, "format", schema, param);
    }
    default:
      throw unsupported(PATH, `${param}.type`, format.type);
  }
};

const ROLES: Readonly<Record<string, string>> = {
  system: "system",
  // OpenAI's newer name for system instructions.
  developer: "system",
  user: "user",
  assistant: "assistant",
  tool: "tool",
};

function toOllamaMessages(value: unknown, param: string): Record<string, unknown>[] {
  const messages = list(value, param);
  if (messages.length === 0) {
    throw invalid(param, `Expected "${param}" to hold at least one message`);
  }
  // Ollama names a tool result by the tool's name, OpenAI by the call's id.
  const toolNames = new Map<string, string>();
  return messages.map((message, index) =>
    toOllamaMessage(message, `${param}[${index}]`, toolNames)
  );
}

function toOllamaMessage(
  value: unknown,
  param: string,
  toolNames: Map<string, string>,
): Record<string, unknown> {
  const message = record(value, param);
  const role = string(message.role, `${param}.role`);
  if (role === "function") throw unsupported(PATH, `${param}.role`, role);
  const ollamaRole = ROLES[role];
  if (ollamaRole === undefined) {
    throw invalid(`${param}.role`, `Unknown role ${show(role)} in "${param}.role"`);
  }
  const out: Record<string, unknown> = { role: ollamaRole, content: "" };
  for (const [key, field] of Object.entries(message)) {
    if (field === null || key === "role") continue;
    const fieldParam = `${param}.${key}`;
    if (key === "content") {
      Object.assign(out, contentOf(field, fieldParam));
    } else if (key === "tool_calls" && role === "assistant") {
      const calls = list(field, fieldParam).map((call, index) =>
        toOllamaToolCall(call, `${fieldParam}[${index}]`, toolNames)
      );
      if (calls.length > 0) out.tool_calls = calls;
    } else if (key === "reasoning_content" && role === "assistant") {
      out.thinking = string(field, fieldParam);
    } else if (key === "tool_call_id" && role === "tool") {
      const id = string(field, fieldParam);
      const name = toolNames.get(id);
      if (name === undefined) {
        throw invalid(
          fieldParam,
          `No earlier assistant message has a tool call with the id ${show(id)} of "${fieldParam}"`,
        );
      }
      out.tool_name = name;
    } else {
      throw unsupported(PATH, fieldParam);
    }
  }
  if (role === "tool" && out.tool_name === undefined) {
    throw invalid(`${param}.tool_call_id`, `A tool message needs "${param}.tool_call_id"`);
  }
  return out;
}

function toOllamaToolCall(
  value: unknown,
  param: string,
  toolNames: Map<string, string>,
): Record<string, unknown> {
  const call = record(value, param);
  if (call.type !== undefined && call.type !== "function") {
    throw unsupported(PATH, `${param}.type`, call.type);
  }
  const id = string(call.id, `${param}.id`);
  const fn = record(call.function, `${param}.function`);
  const name = string(fn.name, `${param}.function.name`);
  const text = string(fn.arguments, `${param}.function.arguments`);
  let args: unknown;
  try {
    args = JSON.parse(text);
  } catch {
    throw invalid(
      `${param}.function.arguments`,
      `Expected "${param}.function.arguments" to be a JSON object, got ${show(text)}`,
    );
  }
  record(args, `${param}.function.arguments`);
  toolNames.set(id, name);
  return { function: { name, arguments: args } };
}

/** Ollama's content of a message: its text, and its images as bare base64. */
function contentOf(value: unknown, param: string): { content: string; images?: string[] } {
  if (typeof value === "string") return { content: value };
  const texts: string[] = [];
  const images: string[] = [];
  list(value, param).forEach((item, index) => {
    const partParam = `${param}[${index}]`;
    const part = record(item, partParam);
    if (part.type === "text") {
      texts.push(string(part.text, `${partParam}.text`));
    } else if (part.type === "image_url") {
      images.push(imageOf(part.image_url, `${partParam}.image_url`));
    } else {
      throw unsupported(PATH, `${partParam}.type`, part.type);
    }
  });
  return images.length > 0 ? { content: texts.join("\n"), images } : { content: texts.join("\n") };
}

function imageOf(value: unknown, param: string): string {
  const image = record(value, param);
  if (image.detail != null && image.detail !== "auto") {
    throw unsupported(PATH, `${param}.detail`, image.detail);
  }
  const url = string(image.url, `${param}.url`);
  if (/^https?:/i.test(url)) {
    throw new GatewayError(
      400,
      "unsupported_parameter",
      `Cannot send the image at "${param}" by URL: Ollama's native ${PATH} takes images inline ` +
        `and the gateway does not fetch URLs; send it as a base64 data: URL`,
      { param },
    );
  }
  const comma = url.indexOf(",");
  const header = /^data:(image\/[^;,]+)?((?:;[^;,]*)*)$/i.exec(url.slice(0, comma));
  if (comma < 0 || header === null || !/;base64$/i.test(header[2] ?? "")) {
    throw invalid(
      param,
      `Expected "${param}.url" to be a base64 data: URL of an image, got ${show(url)}`,
    );
  }
  return url.slice(comma + 1);
}

/** Translates a non-streamed `/api/chat` answer into an OpenAI `chat.completion`. */
export function fromOllamaChat(
  answer: unknown,
  context: TranslationContext,
): Record<string, unknown> {
  const chat = readChatAnswer(answer);
  const toolCalls: ToolCall[] = chat.toolCalls.map((call, index) =>
    toolCallOf(call, index, context)
  );
  const message: Record<string, unknown> = {
    role: "assistant",
    content: toolCalls.length > 0 && chat.content === "" ? null : chat.content,
  };
  if (chat.thinking !== "") message.reasoning_content = chat.thinking;
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  return {
    id: context.id,
    object: "chat.completion",
    created: context.created,
    model: modelOf(chat, context),
    choices: [{
      index: 0,
      message,
      finish_reason: finishReason(chat.doneReason, toolCalls.length > 0),
      logprobs: null,
    }],
    usage: usageOf(chat),
  };
}

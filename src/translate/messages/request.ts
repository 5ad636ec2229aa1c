/**
 * An Anthropic Messages request as an OpenAI chat completions request, for a backend that
 * serves only chat. Everything a client sends either has a place in the chat request or is
 * refused with a 400 naming the field: nothing is dropped without a word.
 * @module
 */
import type { z } from "zod";
import { GatewayError } from "../../errors.ts";
import { untranslatable } from "./errors.ts";
import {
  type ContentBlockParam,
  type MessageParam,
  MessagesRequest,
  type ThinkingConfig,
  type ToolChoice,
  type ToolParam,
} from "./types.ts";

/** An OpenAI chat message, as sent. */
type ChatMessage = Record<string, unknown>;

/**
 * Reads a Messages request for translation; throws a 400 {@linkcode GatewayError} naming the
 * first field that is missing, of the wrong type, or has no place in a chat request.
 */
export function readMessagesRequest(json: unknown): MessagesRequest {
  const parsed = MessagesRequest.safeParse(json);
  if (parsed.success) return parsed.data;
  throw requestProblem(parsed.error);
}

/** The chat request a Messages request becomes; a stream asks for usage at its end. */
export function toChatRequest(request: MessagesRequest): Record<string, unknown> {
  const messages: ChatMessage[] = [];
  if (request.system !== undefined) {
    messages.push({ role: "system", content: systemText(request.system) });
  }
  request.messages.forEach((message, index) => {
    messages.push(...chatMessages(message, `messages[${index}]`));
  });
  const chat: Record<string, unknown> = {
    model: request.model,
    messages,
    max_tokens: request.max_tokens,
  };
  if (request.stream) {
    chat.stream = true;
    chat.stream_options = { include_usage: true };
  }
  if (request.stop_sequences !== undefined) chat.stop = request.stop_sequences;
  if (request.temperature !== undefined) chat.temperature = request.temperature;
  if (request.top_p !== undefined) chat.top_p = request.top_p;
  // Not in OpenAI's API, but vLLM, llama.cpp, Ollama and LocalAI read it as a sampling setting.
  if (request.top_k !== undefined) chat.top_k = request.top_k;
  const user = request.metadata?.user_id;
  if (user !== undefined && user !== null) chat.user = user;
  if (request.tools !== undefined) chat.tools = request.tools.map(chatTool);
  if (request.tool_choice !== undefined) Object.assign(chat, chatToolChoice(request.tool_choice));
  if (request.thinking !== undefined) {
    chat.chat_template_kwargs = templateThinking(request.thinking);
  }
  return chat;
}

/** The system prompt: a string, or text blocks joined by blank lines. */
function systemText(system: string | readonly { text: string }[]): string {
  return typeof system === "string" ? system : system.map((block) => block.text).join("\n\n");
}

/** The chat messages one Messages turn becomes. */
function chatMessages(message: MessageParam, path: string): ChatMessage[] {
  if (typeof message.content === "string") {
    return [{ role: message.role, content: message.content }];
  }
  return message.role === "user"
    ? userMessages(message.content, `${path}.content`)
    : [assistantMessage(message.content, `${path}.content`)];
}

/**
 * A user turn: its tool results become `tool` messages, first, since chat wants them right
 * after the assistant's calls; the rest one user message.
 */
function userMessages(blocks: readonly ContentBlockParam[], path: string): ChatMessage[] {
  const results: ChatMessage[] = [];
  const parts: Record<string, unknown>[] = [];
  blocks.forEach((block, index) => {
    const at = `${path}[${index}]`;
    switch (block.type) {
      case "tool_result":
        results.push({
          role: "tool",
          tool_call_id: block.tool_use_id,
          content: toolResultText(block, at),
        });
        return;
      case "text":
        parts.push({ type: "text", text: block.text });
        return;
      case "image":
        parts.push({ type: "image_url", image_url: { url: imageUrl(block.source, at) } });
        return;
      case "document":
        parts.push({ type: "text", text: documentText(block, at) });
        return;
      default:
        throw untranslatable(`${at}.type`, `a user message cannot hold a ${block.type} block`);
    }
  });
  if (parts.length === 0) return results;
  const only = parts.length === 1 ? parts[0] : undefined;
  const content = only?.type === "text" ? only.text : parts;
  return [...results, { role: "user", content }];
}

/** An assistant turn: its text, its tool calls and its reasoning in one chat message. */
function assistantMessage(blocks: readonly ContentBlockParam[], path: string): ChatMessage {
  let text = "";
  let reasoning = "";
  const calls: Record<string, unknown>[] = [];
  blocks.forEach((block, index) => {
    const at = `${path}[${index}]`;
    switch (block.type) {
      case "text":
        text += block.text;
        return;
      case "tool_use":
        calls.push({
          id: block.id,
          type: "function",
          function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) },
        });
        return;
      case "thinking":
        reasoning += block.thinking;
        return;
      case "redacted_thinking":
        throw untranslatable(
          at,
          "redacted thinking is encrypted by Anthropic and no other backend can read it",
        );
      default:
        throw untranslatable(
          `${at}.type`,
          `an assistant message cannot hold a ${block.type} block`,
        );
    }
  });
  const message: ChatMessage = {
    role: "assistant",
    content: text === "" && calls.length > 0 ? null : text,
  };
  if (calls.length > 0) message.tool_calls = calls;
  // vLLM and llama.cpp read an earlier turn's reasoning here.
  if (reasoning !== "") message.reasoning_content = reasoning;
  return message;
}

/** What a tool returned, as the text of a `tool` message; an error says so first. */
function toolResultText(
  block: Extract<ContentBlockParam, { type: "tool_result" }>,
  path: string,
): string {
  const content = block.content ?? "";
  const text = typeof content === "string" ? content : content.map((part, index) => {
    if (part.type !== "text") {
      throw untranslatable(
        `${path}.content[${index}]`,
        "a chat tool result holds text only, not an image",
      );
    }
    return part.text;
  }).join("\n");
  return block.is_error ? `Error: ${text}` : text;
}

/** An image source as the URL chat takes: a data URL for inline data. */
function imageUrl(
  source: Extract<ContentBlockParam, { type: "image" }>["source"],
  path: string,
): string {
  switch (source.type) {
    case "base64":
      return `data:${source.media_type};base64,${source.data}`;
    case "url":
      return source.url;
    case "file":
      throw untranslatable(
        `${path}.source`,
        "a file of Anthropic's Files API cannot be sent to a chat backend; send the image inline",
      );
  }
}

/** A plain-text document as text: its title and context, then its content. */
function documentText(
  block: Extract<ContentBlockParam, { type: "document" }>,
  path: string,
): string {
  const source = block.source;
  let data: string;
  if (source.type === "text") {
    data = source.data;
  } else if (source.type === "content") {
    data = typeof source.content === "string" ? source.content : source.content.map((part, i) => {
      if (part.type !== "text" || typeof part.text !== "string") {
        throw untranslatable(`${path}.source.content[${i}]`, "only text can be sent to chat");
      }
      return part.text;
    }).join("\n");
  } else {
    throw untranslatable(
      `${path}.source`,
      `a ${
        source.type === "base64" ? "PDF" : source.type === "url" ? "document URL" : "file"
      } cannot be sent to a chat backend; send the document's text`,
    );
  }
  if (block.citations?.enabled === true) {
    throw untranslatable(`${path}.citations`, "a chat backend cannot cite documents");
  }
  return [block.title, block.context, data].filter((part) => part).join("\n\n");
}

/** A client tool as a chat function. */
function chatTool(tool: ToolParam): Record<string, unknown> {
  const fn: Record<string, unknown> = { name: tool.name, parameters: tool.input_schema };
  if (tool.description !== undefined) fn.description = tool.description;
  if (tool.strict !== undefined) fn.strict = tool.strict;
  return { type: "function", function: fn };
}

/** `tool_choice`, and `parallel_tool_calls: false` when parallel use is off. */
function chatToolChoice(choice: ToolChoice): Record<string, unknown> {
  const fields: Record<string, unknown> = {
    tool_choice: choice.type === "auto"
      ? "auto"
      : choice.type === "any"
      ? "required"
      : choice.type === "none"
      ? "none"
      : { type: "function", function: { name: choice.name } },
  };
  if (choice.type !== "none" && choice.disable_parallel_tool_use === true) {
    fields.parallel_tool_calls = false;
  }
  return fields;
}

/**
 * Thinking as the chat template's `enable_thinking`, which vLLM and llama.cpp pass to the
 * templates of reasoning models (Qwen3, DeepSeek, GLM…). A budget cannot be enforced;
 * `max_tokens` bounds the answer, reasoning included.
 */
function templateThinking(thinking: ThinkingConfig): Record<string, unknown> {
  return { enable_thinking: thinking.type !== "disabled" };
}

/** The first problem zod found, as a 400 naming its field. */
function requestProblem(error: z.ZodError): GatewayError {
  const { issue, path } = innermost(error.issues[0]!, []);
  if (issue.code === "unrecognized_keys") {
    return untranslatable(
      pathText([...path, issue.keys[0]!]),
      "this field has no equivalent in a chat completions request, which this model's " +
        "backend serves",
    );
  }
  const field = pathText(path);
  if (issue.code === "invalid_union" && path.at(-1) === "type") {
    return untranslatable(field, "this type has no equivalent in a chat completions request");
  }
  return new GatewayError(400, "invalid_request", `${field || "body"}: ${issue.message}`, {
    ...(field ? { param: field } : {}),
  });
}

type Issue = z.ZodError["issues"][number];

/**
 * The issue behind a union's: of the alternatives, the one that got past the value's type (an
 * array of blocks rather than a string), followed down, with its whole path.
 */
function innermost(
  issue: Issue,
  base: readonly PropertyKey[],
): { issue: Issue; path: PropertyKey[] } {
  const path = [...base, ...issue.path];
  if (issue.code !== "invalid_union") return { issue, path };
  const branch = issue.errors.find((issues) =>
    issues.length > 0 && !(issues[0]!.code === "invalid_type" && issues[0]!.path.length === 0)
  );
  return branch ? innermost(branch[0]!, path) : { issue, path };
}

/** `messages[0].content[1].source`. */
function pathText(path: readonly PropertyKey[]): string {
  let text = "";
  for (const key of path) {
    text += typeof key === "number" ? `[${key}]` : text === "" ? String(key) : `.${String(key)}`;
  }
  return text;
}

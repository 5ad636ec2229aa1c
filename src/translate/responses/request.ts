/**
 * A Responses API request (`POST /v1/responses`) as an OpenAI chat-completions request, for a
 * backend that serves only chat. Stateless: what needs a stored response is refused with a
 * 400 naming the field, as is everything chat has no place for; nothing is dropped unsaid.
 * @module
 */
import { GatewayError } from "../../errors.ts";
import type { JsonObject } from "../../lib/json.ts";
import { array, boolean, invalid, number, object, show, text, untranslatable } from "./_fields.ts";

/** A chat-completions request body. */
export type ChatRequest = JsonObject;

/**
 * What the Response object repeats of its request (`instructions`, `tools`, `metadata`…), with
 * the Responses API's defaults where the request left a field out.
 */
export type ResponseEcho = Readonly<JsonObject>;

/** The chat request a Responses request becomes, and what the answer repeats of it. */
export interface TranslatedRequest {
  readonly chat: ChatRequest;
  readonly echo: ResponseEcho;
}

/** The chat request being built. */
interface Draft {
  readonly chat: JsonObject;
  instructions: JsonObject | undefined;
  messages: JsonObject[];
}

type FieldHandler = (value: unknown, param: string, draft: Draft) => void;

const STATELESS = "the gateway keeps no responses; send the whole conversation in `input`";

/** Values of `include` that ask for nothing a translated answer lacks. */
const HARMLESS_INCLUDES = new Set([
  // Nothing is encrypted, so there is nothing to include.
  "reasoning.encrypted_content",
  "message.input_image.image_url",
]);

const FIELDS: Readonly<Record<string, FieldHandler>> = {
  model(value, param, draft) {
    draft.chat.model = text(value, param);
  },
  input(value, param, draft) {
    draft.messages = typeof value === "string"
      ? [{ role: "user", content: value }]
      : toMessages(array(value, param), param);
  },
  instructions(value, param, draft) {
    draft.instructions = { role: "system", content: text(value, param) };
  },
  stream(value, param, draft) {
    if (boolean(value, param)) {
      draft.chat.stream = true;
      // The usage of a stream comes in its last chunk, and only when asked for.
      draft.chat.stream_options = { include_usage: true };
    }
  },
  // Its one option adds padding against length side channels; leaving it out changes no content.
  stream_options(value, param) {
    for (const key of Object.keys(object(value, param))) {
      if (key !== "include_obfuscation") throw untranslatable(`${param}.${key}`, "unknown option");
    }
  },
  tools(value, param, draft) {
    const tools = array(value, param).map((tool, index) => toChatTool(tool, `${param}[${index}]`));
    if (tools.length > 0) draft.chat.tools = tools;
  },
  tool_choice(value, param, draft) {
    draft.chat.tool_choice = toChatToolChoice(value, param);
  },
  text(value, param, draft) {
    const options = object(value, param);
    for (const [key, option] of Object.entries(options)) {
      if (option === null) continue;
      if (key === "format") {
        const format = toResponseFormat(option, `${param}.format`);
        if (format !== undefined) draft.chat.response_format = format;
      } else if (key === "verbosity") {
        draft.chat.verbosity = text(option, `${param}.verbosity`);
      } else {
        throw untranslatable(`${param}.${key}`, "unknown option");
      }
    }
  },
  max_output_tokens(value, param, draft) {
    draft.chat.max_tokens = number(value, param);
  },
  temperature(value, param, draft) {
    draft.chat.temperature = number(value, param);
  },
  top_p(value, param, draft) {
    draft.chat.top_p = number(value, param);
  },
  user(value, param, draft) {
    draft.chat.user = text(value, param);
  },
  parallel_tool_calls(value, param, draft) {
    draft.chat.parallel_tool_calls = boolean(value, param);
  },
  // Kept in the Response object, as the Responses API does; chat has no place for it.
  metadata(value, param) {
    for (const [key, entry] of Object.entries(object(value, param))) text(entry, `${param}.${key}`);
  },
  reasoning(value, param, draft) {
    for (const [key, option] of Object.entries(object(value, param))) {
      if (option === null) continue;
      if (key === "effort") draft.chat.reasoning_effort = text(option, `${param}.effort`);
      // A summary is asked for "when available": chat answers have none to give.
      else if (key !== "summary" && key !== "generate_summary") {
        throw untranslatable(`${param}.${key}`, "unknown option");
      }
    }
  },
  include(value, param) {
    array(value, param).forEach((entry, index) => {
      if (!HARMLESS_INCLUDES.has(text(entry, `${param}[${index}]`))) {
        throw untranslatable(`${param}[${index}]`, `chat answers cannot include ${show(entry)}`);
      }
    });
  },
  // OpenAI's default is to store; a backend without state is only refused an explicit ask.
  store(value, param) {
    if (boolean(value, param)) throw untranslatable(param, STATELESS);
  },
  previous_response_id(value, param) {
    text(value, param);
    throw untranslatable(param, STATELESS);
  },
  conversation(_value, param) {
    throw untranslatable(param, STATELESS);
  },
  background(value, param) {
    if (boolean(value, param)) {
      throw untranslatable(param, "a background response needs a backend that keeps responses");
    }
  },
  truncation(value, param) {
    if (value !== "disabled") {
      throw untranslatable(
        param,
        `only "disabled" is served; the backend answers a too long input with an error`,
      );
    }
  },
  service_tier(value, param) {
    if (value !== "auto" && value !== "default") {
      throw untranslatable(param, `only "auto" and "default" are served`);
    }
  },
  // A hint for OpenAI's prompt cache; a backend's own prefix cache needs none.
  prompt_cache_key(value, param) {
    text(value, param);
  },
  // It caps calls of built-in tools, which a translated request cannot have.
  max_tool_calls(value, param) {
    number(value, param);
  },
  top_logprobs(value, param) {
    if (number(value, param) !== 0) {
      throw untranslatable(param, "log probabilities are not translated");
    }
  },
};

/**
 * Translates a Responses request body into a chat-completions body; throws a 400
 * `GatewayError` naming the field for anything chat cannot express or that needs stored state.
 */
export function toChatRequest(body: Readonly<JsonObject>): TranslatedRequest {
  const draft: Draft = { chat: {}, instructions: undefined, messages: [] };
  for (const [key, value] of Object.entries(body)) {
    if (value === null) continue;
    const handler = Object.hasOwn(FIELDS, key) ? FIELDS[key] : undefined;
    if (handler === undefined) {
      throw untranslatable(key, "the field has no equivalent in chat completions");
    }
    handler(value, key, draft);
  }
  if (body.input == null) {
    throw new GatewayError(
      400,
      "missing_input",
      'Request must carry its input in the "input" field',
      {
        param: "input",
      },
    );
  }
  const messages = draft.instructions ? [draft.instructions, ...draft.messages] : draft.messages;
  const { model, ...rest } = draft.chat;
  return { chat: { model, messages, ...rest }, echo: echoOf(body) };
}

/** The request fields a Response object repeats, defaults filled in as OpenAI fills them. */
function echoOf(body: Readonly<JsonObject>): ResponseEcho {
  const reasoning = body.reasoning as JsonObject | null | undefined;
  return {
    instructions: body.instructions ?? null,
    max_output_tokens: body.max_output_tokens ?? null,
    metadata: body.metadata ?? {},
    parallel_tool_calls: body.parallel_tool_calls ?? true,
    previous_response_id: null,
    reasoning: { effort: reasoning?.effort ?? null, summary: reasoning?.summary ?? null },
    store: false,
    temperature: body.temperature ?? null,
    text: body.text ?? { format: { type: "text" } },
    tool_choice: body.tool_choice ?? "auto",
    tools: body.tools ?? [],
    top_p: body.top_p ?? null,
    truncation: "disabled",
    user: body.user ?? null,
  };
}

/** The input items as chat messages. */
function toMessages(items: readonly unknown[], param: string): JsonObject[] {
  const messages: JsonObject[] = [];
  // The assistant message that function calls following it join, as chat holds them.
  let assistant: JsonObject | undefined;
  items.forEach((entry, index) => {
    const at = `${param}[${index}]`;
    const item = object(entry, at);
    const type = item.type ?? (item.role !== undefined ? "message" : undefined);
    switch (type) {
      case "message": {
        const message = toChatMessage(item, at);
        messages.push(message);
        assistant = message.role === "assistant" ? message : undefined;
        break;
      }
      case "function_call": {
        const call = {
          id: text(item.call_id, `${at}.call_id`),
          type: "function",
          function: {
            name: text(item.name, `${at}.name`),
            arguments: text(item.arguments, `${at}.arguments`),
          },
        };
        if (assistant === undefined) {
          assistant = { role: "assistant", content: null };
          messages.push(assistant);
        }
        assistant.tool_calls = [...(assistant.tool_calls as unknown[] | undefined ?? []), call];
        break;
      }
      case "function_call_output":
        messages.push({
          role: "tool",
          tool_call_id: text(item.call_id, `${at}.call_id`),
          content: toolOutput(item.output, `${at}.output`),
        });
        assistant = undefined;
        break;
      // Earlier reasoning: chat requests have no place for it, and chat templates leave the
      // reasoning of earlier turns out of the prompt anyway. The turn's text and calls stay.
      case "reasoning":
        break;
      case "item_reference":
        throw untranslatable(`${at}.type`, `an item reference needs stored items; ${STATELESS}`);
      default:
        throw untranslatable(
          `${at}.type`,
          `input items of type ${show(type)} are not translated (message, function_call, ` +
            "function_call_output and reasoning items are)",
        );
    }
  });
  return messages;
}

const ROLES: Readonly<Record<string, string>> = {
  user: "user",
  assistant: "assistant",
  system: "system",
  // Chat templates of open models know `system`; few know `developer`.
  developer: "system",
};

function toChatMessage(item: JsonObject, at: string): JsonObject {
  const role = ROLES[text(item.role, `${at}.role`)];
  if (role === undefined) {
    throw invalid(`${at}.role`, "user, assistant, system or developer", item.role);
  }
  const content = item.content;
  if (typeof content === "string") return { role, content };
  const parts = array(content, `${at}.content`);
  if (role === "assistant") return assistantMessage(parts, `${at}.content`);
  const chatParts = parts.map((part, index) => toChatPart(part, `${at}.content[${index}]`));
  if (role === "system" && chatParts.some((part) => part.type !== "text")) {
    throw untranslatable(`${at}.content`, "chat system messages take text only");
  }
  const only = chatParts.length === 1 ? chatParts[0] : undefined;
  return { role, content: only?.type === "text" ? only.text : chatParts };
}

/** An earlier answer: its text parts joined, a refusal as chat's `refusal`. */
function assistantMessage(parts: readonly unknown[], at: string): JsonObject {
  let content = "";
  let refusal: string | undefined;
  parts.forEach((entry, index) => {
    const part = object(entry, `${at}[${index}]`);
    if (part.type === "output_text" || part.type === "input_text") {
      content += text(part.text, `${at}[${index}].text`);
    } else if (part.type === "refusal") {
      refusal = text(part.refusal, `${at}[${index}].refusal`);
    } else {
      throw untranslatable(
        `${at}[${index}].type`,
        `assistant content ${show(part.type)} is not translated`,
      );
    }
  });
  return refusal === undefined
    ? { role: "assistant", content }
    : { role: "assistant", content, refusal };
}

/** One content part of a user or system message as a chat content part. */
function toChatPart(entry: unknown, at: string): JsonObject {
  const part = object(entry, at);
  switch (part.type) {
    case "input_text":
      return { type: "text", text: text(part.text, `${at}.text`) };
    case "input_image": {
      if (part.image_url == null) {
        throw untranslatable(
          `${at}.file_id`,
          "an image by file id needs OpenAI's file store; send its image_url",
        );
      }
      const image: JsonObject = { url: text(part.image_url, `${at}.image_url`) };
      if (part.detail != null) image.detail = text(part.detail, `${at}.detail`);
      return { type: "image_url", image_url: image };
    }
    case "input_file": {
      if (part.file_data == null) {
        const by = part.file_id != null ? "file_id" : "file_url";
        throw untranslatable(
          `${at}.${by}`,
          "a file is translated only when sent inline as file_data",
        );
      }
      const file: JsonObject = { file_data: text(part.file_data, `${at}.file_data`) };
      if (part.filename != null) file.filename = text(part.filename, `${at}.filename`);
      return { type: "file", file };
    }
    default:
      throw untranslatable(
        `${at}.type`,
        `content parts of type ${show(part.type)} are not translated`,
      );
  }
}

/** A function's output as a tool message's content: text, or text parts. */
function toolOutput(value: unknown, at: string): string | JsonObject[] {
  if (typeof value === "string") return value;
  return array(value, at).map((entry, index) => {
    const part = object(entry, `${at}[${index}]`);
    if (part.type !== "input_text") {
      throw untranslatable(`${at}[${index}].type`, "chat tool messages take text only");
    }
    return { type: "text", text: text(part.text, `${at}[${index}].text`) };
  });
}

function toChatTool(entry: unknown, at: string): JsonObject {
  const tool = object(entry, at);
  if (tool.type !== "function") {
    throw untranslatable(
      `${at}.type`,
      `the tool ${
        show(tool.type)
      } is built into OpenAI's service; only function tools are translated`,
    );
  }
  const fn: JsonObject = { name: text(tool.name, `${at}.name`) };
  if (tool.description != null) fn.description = text(tool.description, `${at}.description`);
  if (tool.parameters != null) fn.parameters = object(tool.parameters, `${at}.parameters`);
  if (tool.strict != null) fn.strict = boolean(tool.strict, `${at}.strict`);
  return { type: "function", function: fn };
}

function toChatToolChoice(value: unknown, param: string): unknown {
  if (value === "auto" || value === "none" || value === "required") return value;
  const choice = object(value, param);
  if (choice.type !== "function") {
    throw untranslatable(
      `${param}.type`,
      `only "auto", "none", "required" and a function are translated`,
    );
  }
  return { type: "function", function: { name: text(choice.name, `${param}.name`) } };
}

/** `text.format` as chat's `response_format`; plain text asks for nothing. */
function toResponseFormat(value: unknown, param: string): JsonObject | undefined {
  const format = object(value, param);
  switch (format.type) {
    case "text":
      return undefined;
    case "json_object":
      return { type: "json_object" };
    case "json_schema": {
      const schema: JsonObject = {
        name: text(format.name, `${param}.name`),
        schema: object(format.schema, `${param}.schema`),
      };
      if (format.description != null) {
        schema.description = text(format.description, `${param}.description`);
      }
      if (format.strict != null) schema.strict = boolean(format.strict, `${param}.strict`);
      return { type: "json_schema", json_schema: schema };
    }
    default:
      throw invalid(`${param}.type`, "text, json_object or json_schema", format.type);
  }
}

/**
 * Reading an OpenAI request field by field: every field is mapped by a handler or refused, so
 * nothing a client sent is dropped without a word.
 * @module
 */
import { GatewayError } from "../../errors.ts";
import {
  boolean,
  expected,
  integer,
  invalid,
  isRecord,
  list,
  number,
  positiveInteger,
  record,
  show,
  string,
} from "../../lib/request_fields.ts";

const COMPATIBLE_PATHS = {
  "/api/chat": "/v1/chat/completions",
  "/api/generate": "/v1/completions",
  "/api/embed": "/v1/embeddings",
} as const;

/** An Ollama native path a request is translated for. */
export type NativePath = keyof typeof COMPATIBLE_PATHS;

/** The Ollama body being built, and the `options` mapped from OpenAI fields. */
export interface Draft {
  readonly path: NativePath;
  /** The Ollama body; `options` here is the client's own `options` object, if any. */
  readonly out: Record<string, unknown>;
  /** Options mapped from OpenAI fields; they override the client's `options` key by key. */
  readonly options: Record<string, unknown>;
  /** Which request field set each key of `out` that two fields may set. */
  readonly setBy: Map<string, string>;
}

/** Maps one field of the request into the draft, or throws a {@linkcode GatewayError}. */
export type FieldHandler = (value: unknown, param: string, draft: Draft) => void;

/**
 * Runs every field of `body` through its handler; a field without one is refused. A `null`
 * field is OpenAI's way of leaving it unset, so it is skipped.
 */
export function translateFields(
  body: Readonly<Record<string, unknown>>,
  path: NativePath,
  handlers: Readonly<Record<string, FieldHandler>>,
): Draft {
  const draft: Draft = { path, out: {}, options: {}, setBy: new Map() };
  for (const [key, value] of Object.entries(body)) {
    if (value === null) continue;
    const handler = Object.hasOwn(handlers, key) ? handlers[key] : undefined;
    if (handler === undefined) throw unsupported(path, key);
    handler(value, key, draft);
  }
  return draft;
}

/** Checks the fields every request needs and returns the finished Ollama body. */
export function finishDraft(
  draft: Draft,
  body: Readonly<Record<string, unknown>>,
  { streams }: { readonly streams: boolean },
): Record<string, unknown> {
  const { out, options } = draft;
  if (out.model === undefined) {
    throw invalid("model", 'Request must name a model in the "model" field');
  }
  if (streams) {
    // Ollama streams unless told otherwise, OpenAI does not: always say which one is wanted.
    out.stream = body.stream === true;
    if (body.stream_options != null && body.stream !== true) {
      throw invalid("stream_options", '"stream_options" is only allowed when "stream" is true');
    }
  }
  if (out.options !== undefined || Object.keys(options).length > 0) {
    out.options = { ...(out.options as Record<string, unknown> | undefined), ...options };
  }
  return out;
}

/** The refusal of a field, or of one value of it, that Ollama's native API cannot express. */
export function unsupported(path: NativePath, param: string, value?: unknown): GatewayError {
  const what = value === undefined ? `"${param}"` : `"${param}" = ${show(value)}`;
  return new GatewayError(
    400,
    "unsupported_parameter",
    `Parameter ${what} has no equivalent in Ollama's native ${path}; routing the model to ` +
      `Ollama's OpenAI-compatible path (${COMPATIBLE_PATHS[path]}) passes it through`,
    { param },
  );
}

function setOption(key: string, read: (value: unknown, param: string) => unknown): FieldHandler {
  return function setOption(value, param, draft) {
    draft.options[key] = read(value, param);
  };
}

/** Sets `options.num_predict`; `max_tokens` and `max_completion_tokens` may not disagree. */
export const numPredict: FieldHandler = function numPredict(value, param, draft) {
  const limit = positiveInteger(value, param);
  const earlier = draft.options.num_predict;
  if (earlier !== undefined && earlier !== limit) {
    throw invalid(param, `"${param}" = ${limit} contradicts the other token limit, ${earlier}`);
  }
  draft.options.num_predict = limit;
};

/** The fields every request may carry. */
export const COMMON_FIELDS: Readonly<Record<string, FieldHandler>> = {
  model(value, param, draft) {
    const model = string(value, param);
    if (model === "") throw invalid(param, 'Request must name a model in the "model" field');
    draft.out.model = model;
  },
  keep_alive(value, param, draft) {
    if (typeof value !== "string" && typeof value !== "number") {
      throw expected(param, "a duration string or a number of seconds", value);
    }
    draft.out.keep_alive = value;
  },
  options(value, param, draft) {
    draft.out.options = record(value, param);
  },
};

/** The fields of requests that generate text: chat and completions. */
export const GENERATION_FIELDS: Readonly<Record<string, FieldHandler>> = {
  ...COMMON_FIELDS,
  // Set from `body.stream` by finishDraft, whatever the client sent.
  stream: (value, param) => boolean(value, param),
  stream_options(value, param, draft) {
    for (const [key, option] of Object.entries(record(value, param))) {
      if (key === "include_usage") boolean(option, `${param}.${key}`);
      else if (option !== null) throw unsupported(draft.path, `${param}.${key}`);
    }
  },
  n(value, param, draft) {
    if (integer(value, param) !== 1) throw unsupported(draft.path, param, value);
  },
  temperature: setOption("temperature", number),
  top_p: setOption("top_p", number),
  seed: setOption("seed", integer),
  frequency_penalty: setOption("frequency_penalty", number),
  presence_penalty: setOption("presence_penalty", number),
  stop: setOption("stop", stopList),
  format(value, param, draft) {
    if (value !== "json" && !isRecord(value)) {
      throw expected(param, '"json" or a JSON schema', value);
    }
    setOnce(draft, "format", value, param);
  },
  think(value, param, draft) {
    if (typeof value !== "boolean" && typeof value !== "string") {
      throw expected(param, "a boolean or a level", value);
    }
    setOnce(draft, "think", value, param);
  },
};

/**
 * Sets a field of the Ollama body that two request fields may set (e.g. `format` and
 * `response_format`); the client must send only one of them.
 */
export function setOnce(draft: Draft, key: string, value: unknown, param: string): void {
  const earlier = draft.setBy.get(key);
  if (earlier !== undefined) {
    throw invalid(
      param,
      `Cannot use "${param}" with "${earlier}": both set Ollama's "${key}"; send only one of them`,
    );
  }
  draft.setBy.set(key, param);
  draft.out[key] = value;
}

function stopList(value: unknown, param: string): string[] {
  if (typeof value === "string") return [value];
  return list(value, param).map((stop, index) => string(stop, `${param}[${index}]`));
}

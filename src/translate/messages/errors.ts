/**
 * Errors in Anthropic's shape, `{"type": "error", "error": {"type", "message"}}`: the gateway's
 * own on the Messages routes, and a chat backend's error answers translated.
 * @module
 */
import { type ErrorDialect, GatewayError } from "../../errors.ts";
import type { ErrorBody, ErrorType } from "./types.ts";
import { isRecord } from "../../lib/request_fields.ts";

/** Anthropic's error type for a status, as its API pairs them. */
export function errorTypeFor(status: number): ErrorType {
  switch (status) {
    case 401:
      return "authentication_error";
    case 403:
      return "permission_error";
    case 404:
      return "not_found_error";
    case 413:
      return "request_too_large";
    case 429:
      return "rate_limit_error";
    case 503:
    case 529:
      return "overloaded_error";
  }
  return status >= 500 ? "api_error" : "invalid_request_error";
}

/** Anthropic's error body for `status` and `message`. */
export function errorBody(status: number, message: string): ErrorBody {
  return { type: "error", error: { type: errorTypeFor(status), message } };
}

const encoder = new TextEncoder();

/** The gateway's errors on the Messages routes. */
export const ANTHROPIC_ERRORS: ErrorDialect = {
  response(error) {
    return new Response(JSON.stringify(errorBody(error.status, error.message)), {
      status: error.status,
      headers: { ...error.headers, "content-type": "application/json" },
    });
  },
  streamEvent: (error) => errorEvent(errorBody(error.status, error.message), { blankFirst: true }),
};

/** An Anthropic `error` event. */
export function errorEvent(
  body: ErrorBody,
  options: { readonly blankFirst?: boolean } = {},
): Uint8Array {
  const event = `event: error\ndata: ${JSON.stringify(body)}\n\n`;
  return encoder.encode(options.blankFirst ? `\n\n${event}` : event);
}

/** The longest part of a backend's error message passed on. */
const MAX_MESSAGE = 1000;

/**
 * A chat backend's error answer in Anthropic's shape, its status kept: OpenAI's
 * `{"error": {"message"}}`, `{"error": "…"}`, `{"message": "…"}`, or the text itself.
 */
export function fromChatError(status: number, text: string): ErrorBody {
  return errorBody(
    status,
    errorMessageOf(text) || `The backend answered with status ${status} and no message`,
  );
}

/** The message of a chat backend's error, from its body's text. */
export function errorMessageOf(text: string): string {
  let message = text.trim();
  try {
    const parsed: unknown = JSON.parse(text);
    const error = isRecord(parsed) ? parsed.error ?? parsed.message : undefined;
    if (typeof error === "string") message = error;
    else if (isRecord(error) && typeof error.message === "string") message = error.message;
  } catch {
    // Not JSON: the text itself is the message.
  }
  return message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE - 1)}…` : message;
}

/** A request the translation refuses: 400, naming the field at `path`. */
export function untranslatable(path: string, why: string): GatewayError {
  return new GatewayError(400, "untranslatable_field", `${path}: ${why}`, { param: path });
}

/**
 * Anthropic's error answers as OpenAI's error shape.
 * @module
 */
import type { ErrorBody, ErrorType } from "../../errors.ts";
import { AnthropicErrorBody } from "./backend_types.ts";

const MAX_MESSAGE = 500;

/**
 * Anthropic's `529 overloaded_error` is a status of its own; as `503` the gateway's retries,
 * breakers and clients treat it as the overload it is.
 */
const STATUSES: Readonly<Record<number, number>> = { 529: 503 };

/**
 * Translates an Anthropic error answer (`{"type": "error", "error": {"type", "message"}}`, or
 * any text) of a 4xx or 5xx status into OpenAI's error body. The status is kept, but for 529,
 * which becomes 503; the code is Anthropic's error type (`overloaded_error`,
 * `authentication_error`…). Throws a `RangeError` for another status.
 */
export function fromMessagesError(
  status: number,
  text: string,
): { status: number; body: ErrorBody } {
  if (!Number.isInteger(status) || status < 400 || status > 599) {
    throw new RangeError(`Cannot translate status ${status} as an error: it is not 4xx or 5xx`);
  }
  const detail = detailOf(text);
  const message = detail?.message ||
    `The backend answered with status ${status} and no message`;
  const type: ErrorType = status === 404
    ? "not_found_error"
    : status === 429
    ? "requests"
    : status < 500
    ? "invalid_request_error"
    : "upstream_error";
  const code = detail?.type ?? (status < 500 ? "backend_rejected" : "backend_error");
  return {
    status: STATUSES[status] ?? status,
    body: { error: { message, type, param: null, code } },
  };
}

function detailOf(text: string): { type: string | undefined; message: string } | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    const trimmed = text.trim();
    return trimmed === "" ? undefined : { type: undefined, message: truncate(trimmed) };
  }
  const body = AnthropicErrorBody.safeParse(parsed);
  if (body.success) {
    return { type: body.data.error.type, message: truncate(body.data.error.message) };
  }
  return { type: undefined, message: truncate(text.trim()) };
}

function truncate(message: string): string {
  const chars = [...message];
  return chars.length > MAX_MESSAGE ? `${chars.slice(0, MAX_MESSAGE - 1).join("")}…` : message;
}

/**
 * Ollama's error answers as OpenAI's error shape.
 * @module
 */
import type { ErrorBody } from "../../errors.ts";
import { isRecord } from "../../lib/request_fields.ts";

const MAX_MESSAGE = 500;

/**
 * Translates an Ollama error answer (`{"error": "..."}`, or any text) of a 4xx or 5xx status
 * into OpenAI's error body; the status is kept. Throws a `RangeError` for another status.
 */
export function fromOllamaError(status: number, text: string): { status: number; body: ErrorBody } {
  if (!Number.isInteger(status) || status < 400 || status > 599) {
    throw new RangeError(`Cannot translate status ${status} as an error: it is not 4xx or 5xx`);
  }
  const message = messageOf(text) || `The backend answered with status ${status} and no message`;
  const [type, code] = status === 404
    ? ["not_found_error", "model_not_found"] as const
    : status < 500
    ? ["invalid_request_error", "backend_rejected"] as const
    : ["upstream_error", "backend_error"] as const;
  return { status, body: { error: { message, type, param: null, code } } };
}

function messageOf(text: string): string {
  try {
    const parsed: unknown = JSON.parse(text);
    if (isRecord(parsed) && typeof parsed.error === "string") return truncate(parsed.error);
  } catch {
    // Not JSON: the text itself is the message.
  }
  return truncate(text.trim());
}

function truncate(message: string): string {
  const chars = [...message];
  return chars.length > MAX_MESSAGE ? `${chars.slice(0, MAX_MESSAGE - 1).join("")}…` : message;
}

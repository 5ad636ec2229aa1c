/**
 * The first event of an SSE stream, read before the gateway commits to the stream: a backend
 * may send its `200` head at once and only then find it cannot answer (an overloaded engine),
 * and say so in an error event. Reading stops at the chunk that completes the first event; the
 * chunks read go to the client first if the stream is relayed after all.
 * @module
 */
import { createParser, type EventSourceMessage } from "eventsource-parser";
import { chunkReader } from "../../lib/chunk_reader.ts";
import { scheduleDeadline } from "../../lib/deadlines.ts";
import { isJsonObject, type JsonObject } from "../../lib/json.ts";
import type { StartedBody } from "./relay.ts";

/** How a stream begins: with data, or with the backend's error. */
export type FirstEvent =
  | { readonly kind: "data"; readonly body: StartedBody }
  | { readonly kind: "error"; readonly message: string; readonly body: StartedBody };

/** Options for {@linkcode readFirstEvent}. */
export interface FirstEventOptions {
  /** Longest wait for each chunk, in ms; 0 waits forever. */
  readonly idleTimeout: number;
  /** Called when a chunk takes longer than `idleTimeout`; it should abort the request. */
  readonly onIdle: () => void;
}

/**
 * The most read while looking for the first event. A first event this large is an answer, not
 * an error: the stream is passed on as it is.
 */
const MAX_FIRST_EVENT_BYTES = 256 * 1024;

/** The longest part of a backend's error message passed on. */
const MAX_MESSAGE = 1000;

/**
 * Reads `stream` up to its first event that carries data (per the SSE rules: comments such as
 * `: ping`, and lines without `data` before a blank line, are no event). A stream that ends or
 * grows past the size limit first is taken as data too. Rejects when the stream breaks.
 */
export async function readFirstEvent(
  stream: ReadableStream<Uint8Array>,
  options: FirstEventOptions,
): Promise<FirstEvent> {
  const reader = chunkReader(stream);
  const held: Uint8Array[] = [];
  // Made only once a block breaks off at a chunk's end, where a character may be cut in two.
  let decoder: TextDecoder | undefined;
  let first: EventSourceMessage | undefined;
  const parser = createParser({ onEvent: (event) => first ??= event });
  let size = 0;
  while (first === undefined && size <= MAX_FIRST_EVENT_BYTES) {
    const stalled = options.idleTimeout > 0
      ? scheduleDeadline(options.onIdle, options.idleTimeout)
      : undefined;
    let next: ReadableStreamReadResult<Uint8Array>;
    try {
      next = await reader.read();
    } finally {
      stalled?.cancel();
    }
    if (next.done) break;
    held.push(next.value);
    size += next.value.byteLength;
    // Fed a block at a time, so that a chunk holding the whole stream is not parsed whole.
    const bytes = next.value;
    for (let offset = 0; first === undefined && offset < bytes.byteLength;) {
      const ended = blockEnd(bytes, offset);
      const end = ended === -1 ? bytes.byteLength : ended;
      const block = bytes.subarray(offset, end);
      // A block that ends in a blank line ends between characters: no state to keep.
      if (decoder === undefined && ended !== -1) parser.feed(WHOLE.decode(block));
      else parser.feed((decoder ??= new TextDecoder()).decode(block, { stream: true }));
      offset = end;
    }
  }
  const body = { held, reader };
  const message = first === undefined ? undefined : errorMessage(first);
  return message === undefined ? { kind: "data", body } : { kind: "error", message, body };
}

/** Decodes the blocks that end in a blank line. */
const WHOLE = new TextDecoder();

const LF = 0x0a;
const CR = 0x0d;

/**
 * Where the first block of lines from `start` ends, after the blank line that ends it; -1 when
 * no blank line does. Any split is safe, since the parser reads across them (and a line break is
 * never part of a longer UTF-8 character): this one only saves parsing what follows the first
 * event.
 */
function blockEnd(bytes: Uint8Array, start: number): number {
  for (let index = start; index + 1 < bytes.byteLength; index++) {
    const byte = bytes[index];
    if (byte !== LF && byte !== CR) continue;
    const following = bytes[index + 1];
    // LF LF, LF CR (as in CR LF CR LF) or CR CR: a line break, then an empty line.
    if (
      (byte === LF && (following === LF || following === CR)) || (byte === CR && following === CR)
    ) {
      return index + 2;
    }
  }
  return -1;
}

/**
 * The backend's message when `event` is an error: an `event: error`, or data that is a JSON
 * object with an `error` (as vLLM and llama.cpp send). An error that names a 4xx status other
 * than 429 (or Anthropic's type for one) is the backend's verdict on the request, not a failure:
 * undefined, as for data.
 */
function errorMessage(event: EventSourceMessage): string | undefined {
  const named = event.event === "error";
  if (!named && !event.data.includes('"error"')) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(event.data);
  } catch {
    return named ? shorten(event.data || "an error event without a message") : undefined;
  }
  const error = isJsonObject(value) ? value.error : undefined;
  if (error === undefined || error === null) {
    return named ? shorten(messageOf(value) ?? event.data) : undefined;
  }
  if (isJsonObject(error) && namesClientError(error)) return undefined;
  return shorten(messageOf(error) ?? JSON.stringify(error));
}

/** `message` of an error object, or the error when it is text. */
function messageOf(error: unknown): string | undefined {
  if (typeof error === "string") return error;
  if (isJsonObject(error) && typeof error.message === "string") return error.message;
  return undefined;
}

/**
 * Whether the error's `code` or `status` is a 4xx other than 429, or its `type` one of
 * Anthropic's for such a status.
 */
function namesClientError(error: JsonObject): boolean {
  if (typeof error.type === "string" && ANTHROPIC_CLIENT_ERRORS.has(error.type)) return true;
  for (const value of [error.code, error.status]) {
    const status = typeof value === "string" ? Number(value) : value;
    if (typeof status === "number" && status >= 400 && status < 500 && status !== 429) return true;
  }
  return false;
}

/** Anthropic's error types for the 4xx statuses other than 429. */
const ANTHROPIC_CLIENT_ERRORS: ReadonlySet<string> = new Set([
  "invalid_request_error",
  "authentication_error",
  "permission_error",
  "not_found_error",
  "request_too_large",
]);

function shorten(text: string): string {
  return text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE)}…` : text;
}

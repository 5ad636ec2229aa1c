/**
 * A streamed request asking its backend for `usage`, for token limits to count it: OpenAI's
 * `stream_options.include_usage`. The option is spliced in after the body's opening brace, so
 * that the rest of the body goes on byte for byte; only a body whose own `stream_options` says
 * otherwise is written anew, with the client's other stream options kept.
 * @module
 */
import type { ClientBody } from "./body.ts";

const encoder = new TextEncoder();
const OPENING_BRACE = 0x7b;
const USAGE_ASKED = encoder.encode(`"stream_options":{"include_usage":true},`);

/** Whether the client asked for `usage` at the end of its stream itself. */
export function asksUsage(body: ClientBody): boolean {
  const options = body.json?.stream_options;
  return typeof options === "object" && options !== null &&
    (options as { include_usage?: unknown }).include_usage === true;
}

/**
 * `body` with `stream_options.include_usage` set, for a streamed JSON body that does not ask
 * for usage; undefined for any other.
 */
export function withUsageAsked(body: ClientBody): ClientBody | undefined {
  const json = body.json;
  if (!body.stream || json === undefined || asksUsage(body)) return undefined;
  const options = json.stream_options;
  if (options !== undefined) {
    if (options !== null && (typeof options !== "object" || Array.isArray(options))) {
      return undefined;
    }
    const rewritten = { ...json, stream_options: { ...options, include_usage: true } };
    return { ...body, bytes: encoder.encode(JSON.stringify(rewritten)) };
  }
  const { bytes } = body;
  // A JSON object's first byte that is not white space (or a byte order mark) is its brace;
  // a streamed request holds at least `stream`, so the field is never the object's only one.
  const brace = bytes.indexOf(OPENING_BRACE);
  if (brace < 0) return undefined;
  const spliced = new Uint8Array(bytes.byteLength + USAGE_ASKED.byteLength);
  spliced.set(bytes.subarray(0, brace + 1));
  spliced.set(USAGE_ASKED, brace + 1);
  spliced.set(bytes.subarray(brace + 1), brace + 1 + USAGE_ASKED.byteLength);
  return { ...body, bytes: spliced };
}

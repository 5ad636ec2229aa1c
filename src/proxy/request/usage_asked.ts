/**
 * A streamed request asking its backend for `usage`, for token limits to count it: OpenAI's
 * `stream_options.include_usage`. The option is spliced in after the body's opening brace, so
 * that the rest of the body goes on byte for byte; only a body whose own `stream_options` says
 * otherwise is written anew, with the client's other stream options kept.
 * @module
 */
import type { ClientBody } from "./body.ts";

import { withLeadingField } from "./leading_field.ts";

const encoder = new TextEncoder();

/** Whether the client asked for `usage` at the end of its stream itself (`stream_options`). */
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
  // A streamed request holds at least `stream`, so the field is never the object's only one.
  const spliced = withLeadingField(body.bytes, "stream_options", '{"include_usage":true}');
  return spliced === undefined ? undefined : { ...body, bytes: spliced };
}

/**
 * Which answers are streams: their bodies arrive over time, chunk by chunk.
 * @module
 */

/** Content types whose bodies arrive over time, chunk by chunk. */
export function isStream(contentType: string | null): boolean {
  if (contentType === null) return false;
  return contentType.startsWith("text/event-stream") ||
    contentType.startsWith("application/x-ndjson") || contentType.startsWith("audio/");
}

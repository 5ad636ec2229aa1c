/**
 * A request's priority class carried into vLLM's own scheduler as the request's `priority`
 * field (lower is served earlier; 0 is its default). The field is spliced in after the body's
 * opening brace, so that the rest of the body goes on byte for byte; a body that is no JSON
 * object, or already names a priority, is left as it is.
 * @module
 */
import type { ClientBody } from "../proxy/request/body.ts";
import type { PriorityClass } from "./priority.ts";

/** vLLM's `priority` for each class; normal sends none, as 0 is vLLM's default. */
const ENGINE_PRIORITY: Readonly<Record<PriorityClass, number | undefined>> = {
  high: -1,
  normal: undefined,
  low: 1,
};

const encoder = new TextEncoder();
const OPENING_BRACE = 0x7b;

/** `body`'s bytes with `"priority":N,` after the opening brace; undefined when none is due. */
export function withEnginePriority(
  body: ClientBody,
  priority: PriorityClass,
): Uint8Array<ArrayBuffer> | undefined {
  const value = ENGINE_PRIORITY[priority];
  if (value === undefined || body.json === undefined || "priority" in body.json) return undefined;
  const { bytes } = body;
  // A JSON object's first byte that is not white space (or a byte order mark) is its brace.
  const brace = bytes.indexOf(OPENING_BRACE);
  if (brace < 0) return undefined;
  const empty = isEmptyObject(bytes, brace);
  const field = encoder.encode(`"priority":${value}${empty ? "" : ","}`);
  const spliced = new Uint8Array(bytes.byteLength + field.byteLength);
  spliced.set(bytes.subarray(0, brace + 1));
  spliced.set(field, brace + 1);
  spliced.set(bytes.subarray(brace + 1), brace + 1 + field.byteLength);
  return spliced;
}

/** Whether only white space follows the brace at `brace` before the closing one. */
function isEmptyObject(bytes: Uint8Array, brace: number): boolean {
  for (let index = brace + 1; index < bytes.byteLength; index++) {
    const byte = bytes[index]!;
    if (byte === 0x7d) return true;
    if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d) return false;
  }
  return false;
}

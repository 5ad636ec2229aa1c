/**
 * A request's priority class carried into vLLM's own scheduler as the request's `priority`
 * field (lower is served earlier; 0 is its default). The field is spliced in after the body's
 * opening brace, so that the rest of the body goes on byte for byte; a body that is no JSON
 * object, or already names a priority, is left as it is.
 * @module
 */
import type { ClientBody } from "../proxy/request/body.ts";
import { withLeadingField } from "../proxy/request/leading_field.ts";
import type { PriorityClass } from "./priority.ts";

/** vLLM's `priority` for each class; normal sends none, as 0 is vLLM's default. */
const ENGINE_PRIORITY: Readonly<Record<PriorityClass, number | undefined>> = {
  high: -1,
  normal: undefined,
  low: 1,
};

/** `body`'s bytes with `"priority":N` first; undefined when none is due. */
export function withEnginePriority(
  body: ClientBody,
  priority: PriorityClass,
): Uint8Array<ArrayBuffer> | undefined {
  const value = ENGINE_PRIORITY[priority];
  if (value === undefined || body.json === undefined || "priority" in body.json) return undefined;
  return withLeadingField(body.bytes, "priority", String(value));
}

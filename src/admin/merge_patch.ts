/**
 * JSON Merge Patch (RFC 7396), how admin `PATCH` bodies change a section: objects merge key by
 * key, `null` removes a key, anything else replaces.
 * @module
 */
import { isJsonObject } from "../lib/json.ts";

/** `target` with `patch` applied; neither is changed. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isJsonObject(patch)) return patch;
  const result: Record<string, unknown> = isJsonObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

/**
 * Reading a Responses request's fields: the checks and the two refusals every part of the
 * translation shares.
 * @module
 */
import { GatewayError } from "../../errors.ts";
import { isJsonObject, type JsonObject } from "../../lib/json.ts";

/** Why a backend that serves only chat completions cannot do what a field asks. */
export function untranslatable(param: string, reason: string): GatewayError {
  return new GatewayError(
    400,
    "unsupported_parameter",
    `Parameter "${param}" cannot be served by a backend that speaks only chat completions: ` +
      reason,
    { param },
  );
}

/** A field whose value is not what the Responses API takes. */
export function invalid(param: string, expected: string, value: unknown): GatewayError {
  return new GatewayError(
    400,
    "invalid_value",
    `Parameter "${param}" must be ${expected}, got ${show(value)}`,
    { param },
  );
}

/** `value` as an object, or a 400 naming `param`. */
export function object(value: unknown, param: string): JsonObject {
  if (!isJsonObject(value)) throw invalid(param, "an object", value);
  return value;
}

/** `value` as an array, or a 400 naming `param`. */
export function array(value: unknown, param: string): readonly unknown[] {
  if (!Array.isArray(value)) throw invalid(param, "an array", value);
  return value;
}

/** `value` as a string, or a 400 naming `param`. */
export function text(value: unknown, param: string): string {
  if (typeof value !== "string") throw invalid(param, "a string", value);
  return value;
}

/** `value` as a number, or a 400 naming `param`. */
export function number(value: unknown, param: string): number {
  if (typeof value !== "number" || !Number.isFinite(value)) throw invalid(param, "a number", value);
  return value;
}

/** `value` as a boolean, or a 400 naming `param`. */
export function boolean(value: unknown, param: string): boolean {
  if (typeof value !== "boolean") throw invalid(param, "true or false", value);
  return value;
}

/** A value quoted for a message, cut short when long. */
export function show(value: unknown): string {
  const shown = JSON.stringify(value) ?? String(value);
  return shown.length > 80 ? `${shown.slice(0, 80)}…` : shown;
}

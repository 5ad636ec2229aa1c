/**
 * Reading a Responses request's fields: the checks and the two refusals every part of the
 * translation shares.
 * @module
 */
import { GatewayError } from "../../errors.ts";
import { fieldReaders, show } from "../../lib/request_fields.ts";

export { show };

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

/** The field readers, refusing with {@linkcode invalid}. */
export const {
  record: object,
  list: array,
  string: text,
  number,
  boolean,
} = fieldReaders(invalid);

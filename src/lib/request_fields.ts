/**
 * Reading a client's JSON request field by field, for a translation: typed readers that refuse a
 * malformed field with a 400 naming it.
 * @module
 */
import { GatewayError } from "../errors.ts";

/** The refusal of a malformed field. */
export function invalid(param: string, message: string): GatewayError {
  return new GatewayError(400, "invalid_request", message, { param });
}

/** A value as it may appear in a message: JSON, shortened. */
export function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 79)}…` : text;
}

/** The refusal of a field that is not of the `kind` expected. */
export function expected(param: string, kind: string, value: unknown): GatewayError {
  return invalid(param, `Expected "${param}" to be ${kind}, got ${show(value)}`);
}

/** Whether a value is a JSON object (not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** How a reader refuses a field that is not of the `kind` expected. */
export type Refusal = (param: string, kind: string, value: unknown) => GatewayError;

/** The typed field readers, each refusing a malformed field with `refuse`. */
export function fieldReaders(refuse: Refusal) {
  return {
    /** A JSON object field. */
    record(value: unknown, param: string): Record<string, unknown> {
      if (!isRecord(value)) throw refuse(param, "an object", value);
      return value;
    },
    /** An array field. */
    list(value: unknown, param: string): readonly unknown[] {
      if (!Array.isArray(value)) throw refuse(param, "an array", value);
      return value;
    },
    /** A string field. */
    string(value: unknown, param: string): string {
      if (typeof value !== "string") throw refuse(param, "a string", value);
      return value;
    },
    /** A boolean field. */
    boolean(value: unknown, param: string): boolean {
      if (typeof value !== "boolean") throw refuse(param, "a boolean", value);
      return value;
    },
    /** A finite number field. */
    number(value: unknown, param: string): number {
      if (typeof value !== "number" || !Number.isFinite(value)) {
        throw refuse(param, "a number", value);
      }
      return value;
    },
    /** An integer field. */
    integer(value: unknown, param: string): number {
      if (!Number.isSafeInteger(value)) throw refuse(param, "an integer", value);
      return value as number;
    },
    /** A positive integer field, such as a token count. */
    positiveInteger(value: unknown, param: string): number {
      if (!Number.isSafeInteger(value) || (value as number) < 1) {
        throw refuse(param, "a positive integer", value);
      }
      return value as number;
    },
  };
}

/** The readers refusing with {@linkcode expected}: `invalid_request`, "Expected … to be …". */
export const { record, list, string, boolean, number, integer, positiveInteger } = fieldReaders(
  expected,
);

/**
 * Plain JSON values as config files and admin requests hold them: the object shape, and
 * equality of values.
 * @module
 */

/**
 * A JSON object as written in the config file or sent to the admin API: plain objects, arrays,
 * strings, numbers, booleans and null. Typed loosely on purpose, so merging and diffing do not
 * depend on the schema.
 */
export type JsonObject = Record<string, unknown>;

/** Whether `value` is a plain object: not null, not an array, not a class instance. */
export function isJsonObject(value: unknown): value is JsonObject {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/**
 * Deep equality of JSON values: arrays element by element, objects key by key whatever the key
 * order. A key holding `undefined` counts as absent, as it would once serialised.
 */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length &&
      a.every((item, index) => deepEqual(item, b[index]));
  }
  if (!isJsonObject(a) || !isJsonObject(b)) return false;
  const keys = definedKeys(a);
  return keys.length === definedKeys(b).length && keys.every((key) => deepEqual(a[key], b[key]));
}

function definedKeys(object: JsonObject): string[] {
  return Object.keys(object).filter((key) => object[key] !== undefined);
}

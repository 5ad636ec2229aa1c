/**
 * Settings of the bench from environment variables.
 * @module
 */

/** A whole number from the environment variable `name`, within `[min, max]`. */
export function envInteger(name: string, fallback: number, [min, max]: [number, number]): number {
  const text = Deno.env.get(name);
  if (text === undefined || text === "") return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be a whole number from ${min} to ${max}, got "${text}"`);
  }
  return value;
}

/**
 * "Did you mean" for config keys: the keys a schema knows at a place, and the one an unknown
 * key most likely meant.
 * @module
 */
import { z } from "zod";

/** The keys `schema` takes at `path` (object keys and list indexes), across every union branch. */
export function knownKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  const keys = new Set<string>();
  const visit = (node: z.ZodType, rest: readonly PropertyKey[]): void => {
    if (
      node instanceof z.ZodOptional || node instanceof z.ZodNullable ||
      node instanceof z.ZodDefault || node instanceof z.ZodPrefault
    ) {
      visit(node.unwrap() as z.ZodType, rest);
    } else if (node instanceof z.ZodPipe) {
      visit(node.in as z.ZodType, rest);
    } else if (node instanceof z.ZodUnion) {
      for (const option of node.options) visit(option as z.ZodType, rest);
    } else if (node instanceof z.ZodObject) {
      const shape: Record<string, z.ZodType> = node.shape;
      if (rest.length === 0) { for (const key of Object.keys(shape)) keys.add(key); }
      else if (Object.hasOwn(shape, String(rest[0]))) visit(shape[String(rest[0])]!, rest.slice(1));
    } else if (node instanceof z.ZodRecord && rest.length > 0) {
      visit(node.valueType as z.ZodType, rest.slice(1));
    } else if (node instanceof z.ZodArray && typeof rest[0] === "number") {
      visit(node.element as z.ZodType, rest.slice(1));
    }
  };
  visit(schema, path);
  return [...keys];
}

/**
 * The candidate `key` most likely meant: equal once case, `-` and `_` are ignored, or a small
 * edit away (a typo, a swapped pair of letters). Undefined when none is close.
 */
export function closestKey(key: string, candidates: readonly string[]): string | undefined {
  const wanted = normalise(key);
  const allowed = wanted.length >= 8 ? 2 : wanted.length >= 4 ? 1 : 0;
  let best: string | undefined;
  let bestDistance = allowed + 1;
  for (const candidate of candidates) {
    if (candidate === key) continue;
    const distance = editDistance(wanted, normalise(candidate));
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return best;
}

function normalise(key: string): string {
  return key.toLowerCase().replaceAll(/[-_]/g, "");
}

/** Optimal string alignment distance: insertions, deletions, substitutions and swaps. */
function editDistance(a: string, b: string): number {
  const rows = Array.from(
    { length: a.length + 1 },
    (_, i) => [i, ...new Array<number>(b.length).fill(0)],
  );
  for (let j = 1; j <= b.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let distance = Math.min(
        rows[i - 1]![j]! + 1,
        rows[i]![j - 1]! + 1,
        rows[i - 1]![j - 1]! + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        distance = Math.min(distance, rows[i - 2]![j - 2]! + 1);
      }
      rows[i]![j] = distance;
    }
  }
  return rows[a.length]![b.length]!;
}

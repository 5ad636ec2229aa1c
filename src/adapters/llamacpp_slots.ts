/**
 * Reads the busy slots out of llama.cpp's `/slots` answer, served unless `llama-server` runs
 * with `--no-slots`: an array with one object per slot, busy when `is_processing` is true (or,
 * in versions before it, when `state` is 1).
 * @module
 */
import type { LoadReading } from "./types.ts";

/** The slots at work as requests running; throws a `TypeError` when `body` is no slot list. */
export function readLlamaCppSlots(body: unknown): LoadReading {
  if (!Array.isArray(body)) throw new TypeError("Expected /slots to answer an array of slots");
  let busy = 0;
  for (const [index, slot] of body.entries()) {
    if (slot === null || typeof slot !== "object") {
      throw new TypeError(`Expected slots[${index}] in /slots to be an object`);
    }
    const { is_processing: processing, state } = slot as Record<string, unknown>;
    if (processing === true || (processing === undefined && state === 1)) busy++;
  }
  return { running: busy };
}

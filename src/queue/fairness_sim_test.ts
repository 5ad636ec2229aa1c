/**
 * A small simulation of one instance taking one request at a time, each for 10 ms, fed by eight
 * quiet keys (half its capacity between them, at random times) and, in the second run, by a key
 * that floods it with three times what it can serve. The quiet keys' 99th percentile wait with
 * the flood stays within twice their 99th percentile without it; with one shared lane (plain
 * first in, first out) it would not.
 */
import assert from "node:assert/strict";
import { QueueTicket, type Timer, WaitQueue } from "./wait_queue.ts";
import { seededRandom } from "../lib/seeded_random.ts";

const SERVICE_MS = 10;
const QUIET_KEYS = ["a", "b", "c", "d", "e", "f", "g", "h"];
/** Requests per ms of all quiet keys together: half of what the instance serves. */
const QUIET_RATE = 0.5 / SERVICE_MS;
/** Requests per ms of the flooding key: three times what the instance serves. */
const FLOOD_RATE = 3 / SERVICE_MS;
const RUN_MS = 200_000;

const noTimer: Timer = () => () => {};
const NEVER = new AbortController().signal;

/** The quiet keys' waits, in ms, from one run. */
async function quietWaits(
  options: { flood: boolean; sharedLane: boolean },
): Promise<number[]> {
  const random = seededRandom(21);
  let now = 0;
  const queue = new WaitQueue(100, { timer: noTimer, now: () => now });
  const events: { at: number; run: () => void }[] = [];
  const schedule = (at: number, run: () => void) => {
    let index = events.length;
    while (index > 0 && events[index - 1]!.at > at) index--;
    events.splice(index, 0, { at, run });
  };
  let busy = false;
  const waits: number[] = [];
  const serve = () => {
    busy = true;
    schedule(now + SERVICE_MS, () => {
      busy = false;
      queue.wake();
    });
  };
  const arrive = (key: string, quiet: boolean) => {
    if (!busy && queue.length === 0) {
      serve();
      if (quiet) waits.push(0);
      return;
    }
    const arrived = now;
    const lane = options.sharedLane ? "everyone" : key;
    queue.wait(new QueueTicket({ priority: "normal", lane }), { timeout: RUN_MS, signal: NEVER })
      .then((outcome) => {
        if (outcome !== "woken") return;
        serve();
        if (quiet) waits.push(now - arrived);
      });
  };
  const arrivals = (key: string, rate: number, quiet: boolean) => {
    const next = (from: number) => {
      const at = from - Math.log(1 - random()) / rate;
      if (at < RUN_MS) {
        schedule(at, () => {
          arrive(key, quiet);
          next(at);
        });
      }
    };
    next(0);
  };
  for (const key of QUIET_KEYS) arrivals(key, QUIET_RATE / QUIET_KEYS.length, true);
  if (options.flood) arrivals("flood", FLOOD_RATE, false);
  while (events.length > 0) {
    const event = events.shift()!;
    now = event.at;
    event.run();
    // Let a woken waiter take the slot before anything else happens.
    for (let turn = 0; turn < 4; turn++) await Promise.resolve();
  }
  return waits;
}

function p99(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.ceil(sorted.length * 0.99) - 1]!;
}

Deno.test("a flooding key cannot push the other keys' p99 wait above twice their p99 without it", async () => {
  const alone = await quietWaits({ flood: false, sharedLane: false });
  const flooded = await quietWaits({ flood: true, sharedLane: false });
  const unfair = await quietWaits({ flood: true, sharedLane: true });
  assert.ok(alone.length > 5_000, `enough quiet requests: ${alone.length}`);
  const [quiet, withFlood, firstInFirstOut] = [p99(alone), p99(flooded), p99(unfair)];
  assert.ok(quiet > 0, "the quiet keys wait now and then even alone");
  assert.ok(
    withFlood <= 2 * quiet,
    `p99 wait with the flood ${withFlood.toFixed(1)} ms, without ${quiet.toFixed(1)} ms`,
  );
  assert.ok(
    firstInFirstOut > 2 * quiet,
    `one shared lane lets the flood in front: ${firstInFirstOut.toFixed(1)} ms`,
  );
});

/**
 * Shared counters in Redis or Valkey (`--redis URL`), through node-redis. One round trip per
 * sync: a `MULTI` of `INCRBY` and `PEXPIRE` for each counter added to, then one `MGET` of the
 * counters read, so a total read includes this call's adds.
 *
 * A Redis that is down must not hold up a sync: commands fail at once while the client is not
 * connected (no offline queue), and the client reconnects on its own in the background.
 *
 * Layout: `switchyard:shared-counts:<window>:<name>`, an integer that expires at its
 * removal time.
 * @module
 */
import { createClient } from "@redis/client";
import { type Counter, type CounterStore, removeAt } from "./shared_counters.ts";

const PREFIX = "switchyard:shared-counts:";
/** The longest wait between two attempts to reconnect, in ms. */
const MAX_RECONNECT_DELAY = 2_000;

/** Counters in Redis or Valkey. */
export class RedisCounterStore implements CounterStore {
  readonly kind = "redis";
  readonly #client;

  /**
   * Connects to `url` (`redis://`, `rediss://`) in the background; until it is connected, and
   * whenever it is not, {@linkcode addAndRead} fails at once. `onError` hears each connection
   * error.
   */
  constructor(url: string, onError: (error: unknown) => void) {
    this.#client = createClient({
      url,
      disableOfflineQueue: true,
      socket: {
        connectTimeout: 2_000,
        reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, MAX_RECONNECT_DELAY),
      },
    });
    this.#client.on("error", onError);
    // Until Redis answers the first time, the client keeps trying, as after a lost connection.
    this.#client.connect().catch(onError);
  }

  async addAndRead(
    adds: readonly (Counter & { readonly amount: number })[],
    reads: readonly Counter[],
    now: number,
  ): Promise<number[]> {
    if (!this.#client.isReady) throw new Error("Redis is not connected");
    if (adds.length === 0 && reads.length === 0) {
      // Nothing to count: still ask, so that a Redis gone away is noticed while idle too.
      await this.#client.ping();
      return [];
    }
    const multi = this.#client.multi();
    for (const add of adds) {
      multi.incrBy(keyOf(add), add.amount).pExpire(keyOf(add), Math.max(1, removeAt(add) - now));
    }
    if (reads.length > 0) multi.mGet(reads.map(keyOf));
    const replies = await multi.exec();
    if (reads.length === 0) return [];
    const values: unknown = replies.at(-1);
    if (!Array.isArray(values)) throw new Error("Redis answered MGET with no list");
    return reads.map((_, index) => Number(values[index] ?? 0));
  }

  async close(): Promise<void> {
    if (this.#client.isReady) await this.#client.close();
    else if (this.#client.isOpen) this.#client.destroy();
  }
}

function keyOf(counter: Counter): string {
  return `${PREFIX}${counter.window}:${counter.name}`;
}

/**
 * Why the Redis at `url` cannot be used, or undefined when it answers a `PING` within
 * `timeout` ms; for `--check`.
 */
export async function redisProblem(url: string, timeout = 2_000): Promise<string | undefined> {
  let failure: unknown;
  const client = createClient({
    url,
    disableOfflineQueue: true,
    socket: { connectTimeout: timeout, reconnectStrategy: false },
  });
  client.on("error", (error) => failure ??= error);
  try {
    await client.connect();
    await client.ping();
    await client.close();
    return undefined;
  } catch (error) {
    if (client.isOpen) client.destroy();
    const reason = failure ?? error;
    const why = reason instanceof Error ? reason.message : String(reason);
    return `Cannot reach Redis at ${withoutPassword(url)}: ${why}`;
  }
}

/** `url` with its password, if any, masked: for log lines and messages. */
export function withoutPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return url;
  }
}

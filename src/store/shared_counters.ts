/**
 * Counters several gateways add to at once, for limits they share: every add is an atomic sum
 * in the store, never a read-modify-write of a total. Two stores keep them: the `--kv` Deno KV
 * store (a file several processes of one host share, or a KV Connect URL several hosts share)
 * and Redis or Valkey (`store/redis_counters.ts`).
 *
 * Deno KV layout: `[switchyard, shared-counts, <removal time>, <name>]` holds a `Deno.KvU64`.
 * @module
 */
import { SHARED_COUNTS } from "./keys.ts";

/** One counter: a name, in one count window. */
export interface Counter {
  readonly name: string;
  /** The count window: the `window`-th span of `span` ms since the epoch. */
  readonly window: number;
  /** The length of the counter's windows, in ms; one name always has the same span. */
  readonly span: number;
}

/**
 * When a counter is no longer read, and may go: three spans after its window began (its
 * window, and the next one, in which it is still read as the previous).
 */
export function removeAt(counter: Counter): number {
  return (counter.window + 3) * counter.span;
}

/** A store of counters that many writers add to. */
export interface CounterStore {
  /** What the store is, for log lines and `/status.json`: `deno-kv` or `redis`. */
  readonly kind: "deno-kv" | "redis";
  /**
   * Adds each amount (whole, above 0) to its counter, then reads back the counters `reads`
   * names, in order: a total read includes every add made before it, this call's too. A counter
   * not there reads 0. A counter may be gone from {@linkcode removeAt} on, by the clock time
   * `now`.
   */
  addAndRead(
    adds: readonly (Counter & { readonly amount: number })[],
    reads: readonly Counter[],
    now: number,
  ): Promise<number[]>;
  /** Lets go of the connection, if the store has one of its own. */
  close(): Promise<void>;
}

/** Mutations per atomic commit; Deno KV allows 1,000. */
const BATCH = 500;
/** Keys per `getMany`; Deno KV allows 10. */
const READ_BATCH = 10;

/**
 * Counters in the `--kv` Deno KV store. A sum cannot carry an expiry there, so counters are
 * kept in the order of their removal time, and each call removes up to a batch of those whose
 * time has come, whoever wrote them.
 */
export class KvCounterStore implements CounterStore {
  readonly kind = "deno-kv";
  readonly #kv: Deno.Kv;

  constructor(kv: Deno.Kv) {
    this.#kv = kv;
  }

  async addAndRead(
    adds: readonly (Counter & { readonly amount: number })[],
    reads: readonly Counter[],
    now: number,
  ): Promise<number[]> {
    for (let start = 0; start < adds.length; start += BATCH) {
      const commit = this.#kv.atomic();
      for (const add of adds.slice(start, start + BATCH)) {
        commit.sum(keyOf(add), BigInt(add.amount));
      }
      const result = await commit.commit();
      if (!result.ok) throw new Error("The store refused to add to the shared counts");
    }
    const batches: Promise<number[]>[] = [];
    for (let start = 0; start < reads.length; start += READ_BATCH) {
      const keys = reads.slice(start, start + READ_BATCH).map(keyOf);
      batches.push(
        this.#kv.getMany<Deno.KvU64[]>(keys).then((entries) =>
          entries.map((entry) => entry.value === null ? 0 : Number(entry.value.value))
        ),
      );
    }
    const totals = (await Promise.all(batches)).flat();
    await this.#removeBefore(now);
    return totals;
  }

  async #removeBefore(time: number): Promise<void> {
    const old = this.#kv.list({ start: [...SHARED_COUNTS], end: [...SHARED_COUNTS, time] }, {
      limit: BATCH,
    });
    const commit = this.#kv.atomic();
    let any = false;
    for await (const entry of old) {
      commit.delete(entry.key);
      any = true;
    }
    if (any) await commit.commit();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

function keyOf(counter: Counter): Deno.KvKey {
  return [...SHARED_COUNTS, removeAt(counter), counter.name];
}

/**
 * Connections waiting for their next request, by backend. The one used last is taken first,
 * so that under light load few connections stay warm and the rest time out. A connection
 * leaves the pool when the backend closes it, or when it has waited `idleTimeout` ms.
 * @module
 */
import type { Connection } from "./connection.ts";
import { type Deadline, type Schedule, scheduleDeadline } from "../../lib/deadlines.ts";

/** How long before a backend's own keep-alive timeout a connection leaves the pool, in ms. */
export const KEEP_ALIVE_MARGIN = 1000;

/** Options for {@linkcode IdlePool}. */
export interface IdlePoolOptions {
  /** The longest a connection waits, in ms. @default 60_000 */
  readonly idleTimeout?: number;
  /** The most connections waiting per backend; more are closed. @default 256 */
  readonly maxIdlePerBackend?: number;
  /** Schedules the idle timeouts. @default the gateway's shared deadlines */
  readonly schedule?: Schedule;
}

/** Idle keep-alive connections, by backend. */
export class IdlePool {
  readonly #idle = new Map<string, Connection[]>();
  /** When each waiting connection times out. */
  readonly #expiries = new WeakMap<Connection, Deadline>();
  readonly #idleTimeout: number;
  readonly #maxIdle: number;
  readonly #schedule: Schedule;
  #closed = false;

  constructor(options: IdlePoolOptions = {}) {
    this.#idleTimeout = options.idleTimeout ?? 60_000;
    this.#maxIdle = options.maxIdlePerBackend ?? 256;
    this.#schedule = options.schedule ?? scheduleDeadline;
  }

  /** How many connections wait, over all backends. */
  get size(): number {
    let size = 0;
    for (const waiting of this.#idle.values()) size += waiting.length;
    return size;
  }

  /** A waiting connection to the backend `key`, if there is one. */
  take(key: string): Connection | undefined {
    const waiting = this.#idle.get(key);
    const connection = waiting?.pop();
    if (connection === undefined) return undefined;
    this.#expiries.get(connection)?.cancel();
    this.#expiries.delete(connection);
    return connection;
  }

  /**
   * Keeps `connection` for its backend's next request, or closes it if it cannot wait. A
   * backend that said how long it keeps an unused connection open (`Keep-Alive: timeout=`) is
   * left a margin: the connection leaves the pool {@linkcode KEEP_ALIVE_MARGIN} ms before, so
   * that no request is sent on it just as the backend closes it; one too short for that is
   * closed now.
   */
  put(connection: Connection, keepAliveTimeout?: number): void {
    let waiting = this.#idle.get(connection.key);
    if (waiting === undefined) {
      waiting = [];
      this.#idle.set(connection.key, waiting);
    }
    const wait = keepAliveTimeout === undefined
      ? this.#idleTimeout
      : Math.min(this.#idleTimeout, keepAliveTimeout - KEEP_ALIVE_MARGIN);
    if (this.#closed || connection.closed || waiting.length >= this.#maxIdle || wait <= 0) {
      connection.close();
      return;
    }
    waiting.push(connection);
    const drop = () => this.#drop(connection);
    this.#expiries.set(connection, this.#schedule(drop, wait));
    connection.watchWhileIdle(drop);
  }

  /** Closes every waiting connection, and each one put back from now on. */
  async close(): Promise<void> {
    this.#closed = true;
    const settled: Promise<unknown>[] = [];
    for (const waiting of this.#idle.values()) {
      for (const connection of waiting) {
        this.#expiries.get(connection)?.cancel();
        connection.close();
        settled.push(connection.idleSettled());
      }
    }
    this.#idle.clear();
    await Promise.all(settled);
  }

  #drop(connection: Connection): void {
    const waiting = this.#idle.get(connection.key);
    const index = waiting?.indexOf(connection) ?? -1;
    if (index >= 0) waiting!.splice(index, 1);
    this.#expiries.get(connection)?.cancel();
    this.#expiries.delete(connection);
    connection.close();
  }
}

/**
 * One request's time in its model's queue: where it stood on arrival and how long it waited,
 * told back to the client in response headers, and where it stands now, for the comments a
 * streaming request is sent while it waits.
 * @module
 */

/** Response header: the request's position in the queue on arrival, 1 being next. */
export const QUEUE_POSITION_HEADER = "x-queue-position";
/** Response header: the ms the request waited in the queue. */
export const QUEUE_WAIT_HEADER = "x-queue-wait-ms";

/** A request's stay in a queue; made per request, filled only when it waits. */
export class QueueVisit {
  #position: number | undefined;
  #waited = 0;
  #current: (() => number | undefined) | undefined;
  #onEnter: (() => void) | undefined;

  /** Its position on arrival in the first queue it joined; undefined when it never waited. */
  get position(): number | undefined {
    return this.#position;
  }

  /** ms it waited in all. */
  get waited(): number {
    return this.#waited;
  }

  /** Its position now; undefined while it is not in a queue. */
  get current(): number | undefined {
    return this.#current?.();
  }

  /** Calls `listener` when the request joins a queue, and at once if it waits in one now. */
  onEnter(listener: () => void): void {
    this.#onEnter = listener;
    if (this.#current !== undefined) listener();
  }

  /** It joined a queue at `position`; `current` reads its position from then on. */
  entered(position: number, current: () => number | undefined): void {
    this.#position ??= position;
    this.#current = current;
    this.#onEnter?.();
  }

  /** It left the queue after `ms`. */
  left(ms: number): void {
    this.#waited += ms;
    this.#current = undefined;
  }

  /** The response headers that say it waited; none when it did not. */
  headers(): Record<string, string> {
    if (this.#position === undefined) return {};
    return {
      [QUEUE_POSITION_HEADER]: String(this.#position),
      [QUEUE_WAIT_HEADER]: String(Math.round(this.#waited)),
    };
  }
}

/**
 * Runs a task now and then again every `interval` ms after each run ends, so runs never
 * overlap, until stopped. The scheduler is injectable so tests drive time themselves.
 * @module
 */

/** Schedules a callback after `ms`; returns a way to cancel it. */
export type Schedule = (callback: () => void, ms: number) => { cancel(): void };

/** `setTimeout`, unref'd so that pollers never keep a finished process alive. */
export const realSchedule: Schedule = (callback, ms) => {
  const id = setTimeout(callback, ms);
  Deno.unrefTimer(id);
  return { cancel: () => clearTimeout(id) };
};

/** Options for {@linkcode Poller}. */
export interface PollerOptions {
  /** @default realSchedule */
  readonly schedule?: Schedule | undefined;
  /**
   * Told when the task throws: a task records its own expected failures, so a throw is a bug.
   * @default ignores it
   */
  readonly onError?: ((error: unknown) => void) | undefined;
}

/** A repeating task. */
export class Poller {
  readonly #task: () => Promise<void>;
  readonly #interval: number;
  readonly #schedule: Schedule;
  readonly #onError: (error: unknown) => void;
  #timer: { cancel(): void } | undefined;
  #stopped = false;
  /** The run under way, if one is. */
  #running: Promise<void> | undefined;

  constructor(task: () => Promise<void>, interval: number, options: PollerOptions = {}) {
    this.#task = task;
    this.#interval = interval;
    this.#schedule = options.schedule ?? realSchedule;
    this.#onError = options.onError ?? (() => {});
  }

  /**
   * Runs the task at once, then every interval; with `wait`, the first run is one interval
   * from now, for a task that has nothing to do at start.
   */
  start(options: { readonly wait?: boolean } = {}): void {
    if (options.wait) this.#next();
    else void this.#run();
  }

  /** No more runs; one under way finishes but schedules nothing. */
  stop(): void {
    this.#stopped = true;
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  /**
   * Runs the task now, after the run under way if there is one, and resolves when it ends; the
   * next run is one interval after it. Runs never overlap.
   */
  async runNow(): Promise<void> {
    while (this.#running) await this.#running;
    await this.#run();
  }

  #run(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    this.#timer?.cancel();
    this.#timer = undefined;
    const running = this.#attempt().finally(() => {
      this.#running = undefined;
      this.#next();
    });
    this.#running = running;
    return running;
  }

  async #attempt(): Promise<void> {
    try {
      await this.#task();
    } catch (error) {
      // A throw must not end the polling.
      try {
        this.#onError(error);
      } catch { /* a failing report must not end it either */ }
    }
  }

  #next(): void {
    if (this.#stopped) return;
    this.#timer?.cancel();
    this.#timer = this.#schedule(() => void this.#run(), this.#interval);
  }
}

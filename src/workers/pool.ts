/**
 * The primary's side of `--workers N`: starts the workers one port is served by, the first
 * alone (so that only it writes the first config version, and a port 0 becomes the port the
 * others share), starts one again with a growing delay when it dies, passes questions between
 * them, and stops them all on a signal.
 * @module
 */
import type { Answer, FromWorker, Question, ToWorker } from "./messages.ts";

/** A worker as the primary drives it: a Web Worker, or a test's stand-in. */
export interface WorkerHandle {
  postMessage(message: ToWorker): void;
  terminate(): void;
  /** Its messages. */
  onmessage: ((event: MessageEvent<FromWorker>) => void) | null;
  /** An error nothing in the worker caught; the worker is gone. */
  onerror: ((event: ErrorEvent) => void) | null;
}

/** Options for {@linkcode WorkerPool}. */
export interface WorkerPoolOptions {
  /** How many workers; at least 2. */
  readonly workers: number;
  /** The port to serve; 0 lets the first worker pick one for all. */
  readonly port: number;
  /** Starts worker number `worker` (from 1). */
  readonly spawn: (worker: number) => WorkerHandle;
  /** Writes log lines (whole lines, each ending in a newline) the workers sent. */
  readonly writeLog: (bytes: Uint8Array) => void;
  /** Logs the pool's own events. */
  readonly log: (level: "info" | "warn" | "error", message: string) => void;
  /** Clock, in ms. @default Date.now */
  readonly now?: () => number;
  /** Runs `run` after `ms`. @default setTimeout */
  readonly after?: (ms: number, run: () => void) => { cancel(): void };
  /**
   * The longest a question waits for the other workers' answers, in ms: a scrape's metrics,
   * and anything else (an action, a config version). @default { metrics: 5000, other: 30000 }
   */
  readonly answerTimeout?: { readonly metrics: number; readonly other: number };
}

/** The first delay before a dead worker starts again, in ms; it doubles with each death. */
const FIRST_RESTART_DELAY_MS = 500;
/** The longest delay before a dead worker starts again, in ms. */
const MAX_RESTART_DELAY_MS = 30_000;
/** A worker that served this long before it died starts again after the first delay. */
const STEADY_MS = 30_000;

/**
 * How long a question waits for answers, in ms: a scrape must answer within Prometheus' timeout
 * (10 s by default); a refresh may wait for probes and reads that take up to their timeouts.
 */
const DEFAULT_ANSWER_TIMEOUT = { metrics: 5_000, other: 30_000 } as const;

/** How the start ended. */
export type PoolStart =
  | { readonly kind: "listening"; readonly port: number }
  | { readonly kind: "failed"; readonly code: number };

interface Slot {
  readonly worker: number;
  handle: WorkerHandle | undefined;
  /** When it last began to listen; undefined while starting. */
  listeningAt: number | undefined;
  /** Deaths in a row without a steady run between them. */
  deaths: number;
  restart: { cancel(): void } | undefined;
}

interface PendingQuestion {
  readonly asker: Slot;
  readonly askerId: number;
  readonly waiting: Set<Slot>;
  readonly answers: Answer[];
  readonly timer: { cancel(): void };
}

/** The workers serving one port, and the primary's bookkeeping of them. */
export class WorkerPool {
  readonly #options: WorkerPoolOptions;
  readonly #now: () => number;
  readonly #after: (ms: number, run: () => void) => { cancel(): void };
  readonly #slots: Slot[];
  readonly #pending = new Map<number, PendingQuestion>();
  #nextQuestion = 1;
  #port: number;
  #phase: "starting" | "serving" | "stopping" = "starting";
  /** Settles the start: all listening, or one failed. */
  #started = Promise.withResolvers<PoolStart>();
  #stopped = Promise.withResolvers<void>();

  constructor(options: WorkerPoolOptions) {
    if (!Number.isInteger(options.workers) || options.workers < 2) {
      throw new RangeError(`A pool has at least 2 workers, got ${options.workers}`);
    }
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#after = options.after ?? ((ms, run) => {
      const timer = setTimeout(run, ms);
      return { cancel: () => clearTimeout(timer) };
    });
    this.#port = options.port;
    this.#slots = Array.from({ length: options.workers }, (_, index) => ({
      worker: index + 1,
      handle: undefined,
      listeningAt: undefined,
      deaths: 0,
      restart: undefined,
    }));
  }

  /**
   * Starts the first worker, then once it listens the others; resolves once all listen, or
   * with the exit code of the first that failed to start (the others are stopped then).
   */
  start(): Promise<PoolStart> {
    this.#launch(this.#slots[0]!);
    return this.#started.promise;
  }

  /** Asks every worker to drain and stop as on `signal`; resolves once all have exited. */
  stop(signal: string): Promise<void> {
    if (this.#phase !== "stopping") {
      this.#phase = "stopping";
      for (const slot of this.#slots) {
        slot.restart?.cancel();
        slot.restart = undefined;
        slot.handle?.postMessage({ kind: "stop", signal });
      }
      this.#checkStopped();
    }
    return this.#stopped.promise;
  }

  /** Has one running worker read the config file again; the others follow the store. */
  reload(): boolean {
    const handle = this.#slots.find((slot) => slot.handle && slot.listeningAt !== undefined)
      ?.handle;
    handle?.postMessage({ kind: "reload" });
    return handle !== undefined;
  }

  /** How many workers are running now. */
  get running(): number {
    return this.#slots.filter((slot) => slot.handle !== undefined).length;
  }

  #launch(slot: Slot): void {
    slot.restart = undefined;
    slot.listeningAt = undefined;
    const handle = this.#options.spawn(slot.worker);
    slot.handle = handle;
    handle.onmessage = (event) => this.#received(slot, handle, event.data);
    handle.onerror = (event) => {
      event.preventDefault();
      this.#options.log("error", `Worker ${slot.worker} failed: ${event.message}`);
      this.#died(slot, handle, 1);
    };
    handle.postMessage({
      kind: "start",
      worker: slot.worker,
      workers: this.#slots.length,
      port: this.#port,
    });
  }

  #received(slot: Slot, handle: WorkerHandle, message: FromWorker): void {
    if (slot.handle !== handle) return;
    switch (message.kind) {
      case "log":
        this.#options.writeLog(message.bytes);
        break;
      case "listening":
        this.#listening(slot, message.port);
        break;
      case "exit":
        this.#died(slot, handle, message.code);
        break;
      case "ask":
        this.#ask(slot, message.id, message.question);
        break;
      case "answer":
        this.#answered(slot, message.id, message.answer);
        break;
    }
  }

  #listening(slot: Slot, port: number): void {
    slot.listeningAt = this.#now();
    if (this.#phase !== "starting") return;
    if (slot.worker === 1) {
      this.#port = port;
      for (const other of this.#slots.slice(1)) this.#launch(other);
    }
    if (this.#slots.every((each) => each.listeningAt !== undefined)) {
      this.#phase = "serving";
      this.#started.resolve({ kind: "listening", port: this.#port });
    }
  }

  #died(slot: Slot, handle: WorkerHandle, code: number): void {
    if (slot.handle !== handle) return;
    handle.terminate();
    slot.handle = undefined;
    for (const [id, pending] of this.#pending) {
      if (pending.asker === slot) {
        pending.timer.cancel();
        this.#pending.delete(id);
      } else if (pending.waiting.delete(slot)) {
        this.#answerIfComplete(id, pending);
      }
    }
    switch (this.#phase) {
      case "starting":
        // A worker that cannot start shows a problem every worker has: stop them all.
        this.#started.resolve({ kind: "failed", code: code === 0 ? 1 : code });
        void this.stop("start");
        return;
      case "stopping":
        this.#checkStopped();
        return;
      case "serving": {
        const steady = slot.listeningAt !== undefined &&
          this.#now() - slot.listeningAt >= STEADY_MS;
        if (steady) slot.deaths = 0;
        const delay = Math.min(MAX_RESTART_DELAY_MS, FIRST_RESTART_DELAY_MS * 2 ** slot.deaths);
        slot.deaths++;
        this.#options.log(
          "warn",
          `Worker ${slot.worker} exited with code ${code}; it starts again in ${delay} ms`,
        );
        slot.restart = this.#after(delay, () => {
          if (this.#phase === "serving") this.#launch(slot);
        });
      }
    }
  }

  #checkStopped(): void {
    if (this.#phase === "stopping" && this.running === 0) this.#stopped.resolve();
  }

  #ask(asker: Slot, askerId: number, question: Question): void {
    const id = this.#nextQuestion++;
    const timeouts = this.#options.answerTimeout ?? DEFAULT_ANSWER_TIMEOUT;
    const timeout = question.kind === "metrics" ? timeouts.metrics : timeouts.other;
    const waiting = new Set(
      this.#slots.filter((slot) =>
        slot !== asker && slot.handle !== undefined && slot.listeningAt !== undefined
      ),
    );
    const pending: PendingQuestion = {
      asker,
      askerId,
      waiting,
      answers: [],
      timer: this.#after(timeout, () => {
        pending.waiting.clear();
        this.#answerIfComplete(id, pending);
      }),
    };
    this.#pending.set(id, pending);
    for (const slot of waiting) slot.handle!.postMessage({ kind: "question", id, question });
    this.#answerIfComplete(id, pending);
  }

  #answered(slot: Slot, id: number, answer: Answer): void {
    const pending = this.#pending.get(id);
    if (pending === undefined || !pending.waiting.delete(slot)) return;
    pending.answers.push(answer);
    this.#answerIfComplete(id, pending);
  }

  #answerIfComplete(id: number, pending: PendingQuestion): void {
    if (pending.waiting.size > 0) return;
    pending.timer.cancel();
    this.#pending.delete(id);
    pending.asker.handle?.postMessage({
      kind: "answers",
      id: pending.askerId,
      answers: pending.answers,
    });
  }
}

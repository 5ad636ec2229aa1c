/**
 * Writes log lines in batches, without ever waiting for the output: a busy gateway logs a line
 * per request, and one write per line would cost a system call each, while a write that waits
 * for a slow reader of stdout (a log shipper, a terminal, a full pipe) would stall every
 * request in flight. Each line is copied at once into one reused buffer, so a pending line is a
 * few bytes in it, not a string kept alive until the write. Lines wait at most `maxDelay` ms,
 * then go to the writes under way as one copy, and the buffer takes the next lines. When
 * the output is so slow that `maxBacklog` bytes wait, further lines are dropped and counted,
 * and `onDropped` hears how many once the output has caught up. `flush` writes what is pending
 * at once and synchronously, for the moment before the process exits.
 * @module
 */

import type { LineSink } from "./logger.ts";

const encoder = new TextEncoder();
const NEWLINE = 0x0a;

/** Options for {@linkcode LineWriter}. */
export interface LineWriterOptions {
  /**
   * Writes some of `bytes` without blocking (e.g. `Deno.stdout.write`) and tells how many it
   * wrote. The bytes are left untouched until it settles.
   */
  readonly write: (bytes: Uint8Array) => Promise<number>;
  /** Writes some of `bytes` at once and tells how many (e.g. `Deno.stdout.writeSync`). */
  readonly writeSync: (bytes: Uint8Array) => number;
  /** Longest a line waits, in ms; 0 writes every line at once. @default 50 */
  readonly maxDelay?: number;
  /** The size of the buffer lines wait in, in bytes. @default 65536 */
  readonly maxBytes?: number;
  /** The most bytes that may wait for a slow output; lines past it are dropped. @default 8 MiB */
  readonly maxBacklog?: number;
  /** Hears how many lines were dropped, once the output has caught up. */
  readonly onDropped?: (lines: number) => void;
  /** Keeps a pending write's timer from holding the process open (`Deno.unrefTimer`). */
  readonly unrefTimer?: (timer: number) => void;
}

/** Batches lines for a byte sink that is written to in the background. */
export class LineWriter implements LineSink {
  readonly #write: (bytes: Uint8Array) => Promise<number>;
  readonly #writeSync: (bytes: Uint8Array) => number;
  readonly #maxDelay: number;
  readonly #maxBacklog: number;
  readonly #onDropped: ((lines: number) => void) | undefined;
  readonly #unrefTimer: ((timer: number) => void) | undefined;
  readonly #buffer: Uint8Array;
  /** Bytes of pending lines at the start of the buffer. */
  #used = 0;
  /** Batches handed over for writing, oldest first; the first is being written while draining. */
  readonly #batches: Uint8Array[] = [];
  /** Bytes in `#batches`. */
  #queued = 0;
  #draining: Promise<void> | undefined;
  #dropped = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: LineWriterOptions) {
    this.#write = options.write;
    this.#writeSync = options.writeSync;
    this.#maxDelay = options.maxDelay ?? 50;

    this.#maxBacklog = options.maxBacklog ?? 8 * 1024 * 1024;
    this.#onDropped = options.onDropped;
    this.#unrefTimer = options.unrefTimer;
    this.#buffer = new Uint8Array(Math.max(2, options.maxBytes ?? 65536));
  }

  /** Queues a line (without its newline). */
  line(text: string): void {
    this.bytes(encoder.encode(text));
  }

  /** Queues a line (without its newline) given as UTF-8; `line` is copied. */
  bytes(line: Uint8Array): void {
    const size = line.length + 1;
    if (this.#queued + this.#used + size > this.#maxBacklog) {
      this.#dropped++;
      return;
    }
    if (this.#used + size > this.#buffer.length) {
      this.#seal();
      if (size > this.#buffer.length) {
        const whole = new Uint8Array(size);
        whole.set(line);
        whole[line.length] = NEWLINE;
        this.#hand(whole);
        return;
      }
    }
    this.#buffer.set(line, this.#used);
    this.#used += line.length;
    this.#buffer[this.#used++] = NEWLINE;
    if (this.#maxDelay === 0) this.#seal();
    else if (this.#timer === undefined) {
      const timer = setTimeout(() => {
        this.#timer = undefined;
        this.#seal();
      }, this.#maxDelay);
      if (typeof timer === "number") this.#unrefTimer?.(timer);
      this.#timer = timer;
    }
  }

  /** Settles once every line given so far is written (or dropped). */
  async drained(): Promise<void> {
    this.#seal();
    while (this.#draining !== undefined) await this.#draining;
  }

  /**
   * Writes every pending line now, synchronously, except those in a write already under way,
   * which is left to finish on its own.
   */
  flush(): void {
    this.#seal();
    const keep = this.#draining === undefined ? 0 : 1;
    for (const batch of this.#batches.splice(keep)) {
      this.#queued -= batch.length;
      let written = 0;
      try {
        while (written < batch.length) written += this.#writeSync(batch.subarray(written));
      } catch {
        // The output is gone; nothing else can be told.
      }
    }
  }

  /** Hands the pending lines over for writing and starts a fresh buffer. */
  #seal(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#used === 0) return;
    const batch = this.#buffer.slice(0, this.#used);
    this.#used = 0;
    this.#hand(batch);
  }

  #hand(batch: Uint8Array): void {
    this.#batches.push(batch);
    this.#queued += batch.length;
    this.#draining ??= this.#drain();
  }

  /** Writes the batches in order until none is left. */
  async #drain(): Promise<void> {
    for (let batch = this.#batches[0]; batch !== undefined; batch = this.#batches[0]) {
      let written = 0;
      try {
        while (written < batch.length) written += await this.#write(batch.subarray(written));
      } catch {
        // The output is gone: what waits for it cannot be written either.
      }
      this.#batches.shift();
      this.#queued -= batch.length;
      if (this.#batches.length === 0 && this.#dropped > 0) {
        const dropped = this.#dropped;
        this.#dropped = 0;
        this.#onDropped?.(dropped);
      }
    }
    this.#draining = undefined;
  }
}

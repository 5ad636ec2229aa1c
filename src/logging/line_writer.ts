/**
 * Writes log lines in batches: a busy gateway logs a line per request, and one write per line
 * would cost a system call each. Each line is copied at once into one reused buffer, so a
 * pending line is a few bytes in it, not a string kept alive until the write (which a busy
 * gateway's garbage collector would have to promote and later sweep). Lines wait at most
 * `maxDelay` ms; a line that does not fit in what is left of the buffer writes what is pending
 * first, and one longer than the whole buffer is written on its own. `flush` writes what is
 * pending at once (on shutdown).
 * @module
 */

import type { LineSink } from "./logger.ts";

const encoder = new TextEncoder();
const NEWLINE = 0x0a;

/** Options for {@linkcode LineWriter}. */
export interface LineWriterOptions {
  /**
   * Writes bytes out whole, synchronously (e.g. to stdout). They are a view of the writer's
   * buffer, reused once `write` returns: a `write` that keeps them must copy them.
   */
  readonly write: (bytes: Uint8Array) => void;
  /** Longest a line waits, in ms; 0 writes every line at once. @default 50 */
  readonly maxDelay?: number;
  /** The size of the buffer lines wait in, in bytes. @default 65536 */
  readonly maxBytes?: number;
  /** Keeps a pending write's timer from holding the process open (`Deno.unrefTimer`). */
  readonly unrefTimer?: (timer: number) => void;
}

/** Batches lines for a synchronous byte sink. */
export class LineWriter implements LineSink {
  readonly #write: (bytes: Uint8Array) => void;
  readonly #maxDelay: number;
  readonly #unrefTimer: ((timer: number) => void) | undefined;
  readonly #buffer: Uint8Array;
  /** Bytes of pending lines at the start of the buffer. */
  #used = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: LineWriterOptions) {
    this.#write = options.write;
    this.#maxDelay = options.maxDelay ?? 50;
    this.#unrefTimer = options.unrefTimer;
    this.#buffer = new Uint8Array(Math.max(2, options.maxBytes ?? 65536));
  }

  /** Queues a line (without its newline). */
  line(text: string): void {
    this.bytes(encoder.encode(text));
  }

  /** Queues a line (without its newline) given as UTF-8; `line` is copied. */
  bytes(line: Uint8Array): void {
    if (!this.#append(line)) {
      this.flush();
      if (!this.#append(line)) {
        const whole = new Uint8Array(line.length + 1);
        whole.set(line);
        whole[line.length] = NEWLINE;
        this.#write(whole);
        return;
      }
    }
    if (this.#maxDelay === 0) this.flush();
    else if (this.#timer === undefined) {
      const timer = setTimeout(() => this.flush(), this.#maxDelay);
      if (typeof timer === "number") this.#unrefTimer?.(timer);
      this.#timer = timer;
    }
  }

  /** Writes every pending line now. */
  flush(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#used === 0) return;
    const used = this.#used;
    this.#used = 0;
    this.#write(this.#buffer.subarray(0, used));
  }

  /** Copies `line` and a newline after the pending lines; false when they do not fit. */
  #append(line: Uint8Array): boolean {
    if (this.#used + line.length >= this.#buffer.length) return false;
    this.#buffer.set(line, this.#used);
    this.#used += line.length;
    this.#buffer[this.#used++] = NEWLINE;
    return true;
  }
}

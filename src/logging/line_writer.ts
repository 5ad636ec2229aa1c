/**
 * Writes log lines in batches: a busy gateway logs a line per request, and one write per line
 * would cost a system call each. Lines wait at most `maxDelay` ms, or until `maxBytes` of them
 * are pending; `flush` writes what is pending at once (on shutdown).
 * @module
 */

const encoder = new TextEncoder();

/** Options for {@linkcode LineWriter}. */
export interface LineWriterOptions {
  /** Writes bytes out whole, synchronously (e.g. to stdout). */
  readonly write: (bytes: Uint8Array) => void;
  /** Longest a line waits, in ms; 0 writes every line at once. @default 50 */
  readonly maxDelay?: number;
  /** Pending text that triggers a write before the delay is over. @default 65536 */
  readonly maxBytes?: number;
  /** Keeps a pending write's timer from holding the process open (`Deno.unrefTimer`). */
  readonly unrefTimer?: (timer: number) => void;
}

/** Batches lines for a synchronous byte sink. */
export class LineWriter {
  readonly #write: (bytes: Uint8Array) => void;
  readonly #maxDelay: number;
  readonly #maxBytes: number;
  readonly #unrefTimer: ((timer: number) => void) | undefined;
  #pending: string[] = [];
  #pendingBytes = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: LineWriterOptions) {
    this.#write = options.write;
    this.#maxDelay = options.maxDelay ?? 50;
    this.#maxBytes = options.maxBytes ?? 65536;
    this.#unrefTimer = options.unrefTimer;
  }

  /** Queues a line (without its newline). */
  line(text: string): void {
    this.#pending.push(text);
    this.#pendingBytes += text.length + 1;
    if (this.#maxDelay === 0 || this.#pendingBytes >= this.#maxBytes) this.flush();
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
    if (this.#pending.length === 0) return;
    const text = this.#pending.join("\n") + "\n";
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#write(encoder.encode(text));
  }
}

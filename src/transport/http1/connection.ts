/**
 * One HTTP/1.1 connection: its socket and a read buffer it reuses from read to read, so that
 * reading a response allocates only the copies it hands out. The buffer starts small, since a
 * stream's pending read holds it for as long as the stream waits for its next chunk: it doubles
 * when a read fills it or a head does not fit, up to {@linkcode MAX_READ_BUFFER_SIZE}, and goes
 * back to small when the connection is idle. While the connection waits in the pool, a read
 * stays pending on it: that read tells at once when the backend closes the connection, and when
 * the connection is taken it becomes the first read of the next answer.
 * @module
 */
import { ProtocolError } from "../errors.ts";
import { parseResponseHead, type ResponseHead } from "./response_head.ts";
import type { Socket } from "./socket.ts";
import { byteString, CR, LF, lineEndIn } from "./syntax.ts";

/** The read buffer of a new or idle connection, in bytes: enough for a head and a few chunks. */
export const FIRST_READ_BUFFER_SIZE = 4 * 1024;
/** The most read at once, in bytes, as the runtime's own reads; a response head must fit. */
export const MAX_READ_BUFFER_SIZE = 64 * 1024;

/** The backend closed the connection before the answer was whole. */
export class ConnectionClosed extends Error {
  constructor(when: string) {
    super(`connection closed ${when}`);
    this.name = "ConnectionClosed";
  }
}

/** A connection to one backend, carrying one request at a time. */
export class Connection {
  readonly socket: Socket;
  /** The pool the connection belongs to: its backend's `host:port`. */
  readonly key: string;
  #buffer: Uint8Array<ArrayBuffer> = new Uint8Array(FIRST_READ_BUFFER_SIZE);
  /** The last read filled at least half the buffer, to its end: more is likely waiting. */
  #filled = false;
  /** Unconsumed bytes are `buffer[start, end)`. */
  start = 0;
  end = 0;
  /** Bytes have arrived for the current request. */
  received = false;
  #closed = false;
  /** Waiting in the pool, not yet taken for a request. */
  #idle = false;
  #idleRead: Promise<number | null> | undefined;
  /** Settles when the last read started while idle has finished, however it ended. */
  #idleSettled: Promise<unknown> = Promise.resolve();

  constructor(socket: Socket, key: string) {
    this.socket = socket;
    this.key = key;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Where reads go; a fill may replace it with a larger one. */
  get buffer(): Uint8Array<ArrayBuffer> {
    return this.#buffer;
  }

  /** Closes the socket; reads and writes pending on it fail. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.socket.close();
    } catch {
      // Already closed by the runtime.
    }
  }

  /** Starts a new request on the connection. */
  begin(): void {
    this.#idle = false;
    this.received = false;
  }

  /** Writes all of `data`. */
  async write(data: Uint8Array): Promise<void> {
    let written = 0;
    while (written < data.byteLength) {
      written += await this.socket.write(written === 0 ? data : data.subarray(written));
    }
  }

  /**
   * Reads more bytes into the buffer; false at the end of the stream. No async function of its
   * own: a stream waiting for its next chunk holds no more than the socket's read.
   */
  fill(): Promise<boolean> {
    return this.#read().then(this.#arrived);
  }

  /** Starts a read into the free end of the buffer, made room for first. */
  #read(): Promise<number | null> {
    const idleRead = this.#idleRead;
    if (idleRead !== undefined) {
      this.#idleRead = undefined;
      return idleRead;
    }
    if (this.start === this.end) {
      this.start = 0;
      this.end = 0;
    }
    const size = this.#buffer.length;
    const full = this.end === size && this.start === 0;
    if ((this.#filled || full) && size < MAX_READ_BUFFER_SIZE) {
      this.#moveTo(new Uint8Array(size * 2));
    } else if (this.end === size) {
      if (full) return Promise.reject(new ProtocolError("a response head over 64 KiB"));
      this.#moveTo(this.#buffer);
    }
    const into = this.end === 0 ? this.#buffer : this.#buffer.subarray(this.end);
    try {
      return this.socket.read(into);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Takes in what a read brought; false at the end of the stream. */
  readonly #arrived = (count: number | null): boolean => {
    if (count === null) return false;
    this.end += count;
    this.#filled = this.end === this.#buffer.length && count >= this.#buffer.length / 2;
    this.received = true;
    return true;
  };

  /** Moves the unconsumed bytes to the start of `buffer`, which becomes the read buffer. */
  #moveTo(buffer: Uint8Array<ArrayBuffer>): void {
    if (buffer === this.#buffer) buffer.copyWithin(0, this.start, this.end);
    else buffer.set(this.#buffer.subarray(this.start, this.end));
    this.#buffer = buffer;
    this.end -= this.start;
    this.start = 0;
  }

  /**
   * Reads the head of the answer to a `method` request, skipping interim (1xx) answers.
   * Throws {@linkcode ConnectionClosed} if the backend closes first, and a
   * {@linkcode ProtocolError} for a head that is not HTTP/1.1.
   */
  async readHead(method: string): Promise<ResponseHead> {
    for (;;) {
      const headEnd = this.#headEnd();
      if (headEnd < 0) {
        if (!await this.fill()) {
          throw new ConnectionClosed(
            this.received ? "midway through the head" : "before an answer",
          );
        }
        continue;
      }
      const head = parseResponseHead(byteString(this.#buffer, this.start, headEnd), method);
      // Past the empty line: LF, or CR LF.
      this.start = headEnd + (this.#buffer[headEnd + 1] === CR ? 3 : 2);
      if (head.status >= 200) return head;
      if (head.status === 101) throw new ProtocolError("a switch of protocols");
    }
  }

  /**
   * Keeps a read pending while the connection is idle; `gone` is called if it finishes before
   * the connection is taken (the backend closed the connection, or sent what nobody asked
   * for). Once taken, the read's bytes are the answer's.
   */
  watchWhileIdle(gone: () => void): void {
    this.start = 0;
    this.end = 0;
    this.#filled = false;
    if (this.#buffer.length > FIRST_READ_BUFFER_SIZE) {
      this.#buffer = new Uint8Array(FIRST_READ_BUFFER_SIZE);
    }
    this.#idle = true;
    const read = this.socket.read(this.#buffer);
    this.#idleRead = read;
    const settled = () => {
      if (this.#idle && this.#idleRead === read) {
        this.#idleRead = undefined;
        gone();
      }
    };
    this.#idleSettled = read.then(settled, settled);
  }

  /** Settles once no read started while idle is pending. */
  idleSettled(): Promise<unknown> {
    return this.#idleSettled;
  }

  /**
   * Where the head in the buffer ends: the LF that ends its last header line, followed by an
   * empty line (LF or CR LF) that has fully arrived; -1 if the head is not whole yet.
   */
  #headEnd(): number {
    const buffer = this.#buffer;
    const end = this.end;
    for (
      let at = lineEndIn(buffer, this.start, end);
      at >= 0;
      at = lineEndIn(buffer, at + 1, end)
    ) {
      const next = buffer[at + 1];
      if (at + 1 < end && next === LF) return at;
      if (at + 2 < end && next === CR && buffer[at + 2] === LF) return at;
    }
    return -1;
  }
}

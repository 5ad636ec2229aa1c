/**
 * The latest client requests that failed (a 429 or a 5xx), newest first, for the status page:
 * a fixed-size ring, so that a storm of errors costs no memory.
 * @module
 */

/** One failed request, as the status page lists it. */
export interface RecentError {
  /** ISO time the request arrived. */
  readonly at: string;
  readonly requestId: string;
  readonly service: string;
  /** The model as the client asked for it, cut to 100 characters. */
  readonly model: string;
  readonly status: number;
  /** The gateway's error code, or "" when a backend's own answer was passed on. */
  readonly reason: string;
  /** The message of that error, cut to 300 characters; "" with no error code. */
  readonly message: string;
  /** How the answer ended: `complete`, `upstream_broken`, `timeout`… as its log line says. */
  readonly outcome: string;
  /** The instance that last served it, if one was tried. */
  readonly instance: string | null;
}

/** The latest `size` failed requests. */
export class RecentErrors {
  readonly #ring: (RecentError | undefined)[];
  #next = 0;

  constructor(readonly size = 20) {
    this.#ring = new Array(size);
  }

  add(error: RecentError): void {
    this.#ring[this.#next] = error;
    this.#next = (this.#next + 1) % this.size;
  }

  /** Newest first. */
  list(): RecentError[] {
    const list: RecentError[] = [];
    for (let i = 1; i <= this.size; i++) {
      const entry = this.#ring[(this.#next - i + this.size) % this.size];
      if (entry) list.push(entry);
    }
    return list;
  }
}

/**
 * The latest finished client requests by request id, for the console's playground to say which
 * instance served an answer and after how many attempts: a ring of a fixed size, the oldest
 * written over first, so that it costs the same memory however busy the gateway is.
 * @module
 */

/** One finished request, as `GET /admin/requests/{id}` shows it. */
export interface RecentRequest {
  /** Clock time the request arrived, in ms. */
  readonly arrivedAt: number;
  readonly requestId: string;
  readonly service: string;
  /** The model as the client named it, cut to 200 characters. */
  readonly model: string | null;
  /** The instance tried last: the one that answered, when one did. */
  readonly instance: string | null;
  /** Instances tried. */
  readonly attempts: number;
  /** What answered instead of the model: `cache`, or a fallback model. */
  readonly fallback: string | null;
  readonly status: number;
  readonly outcome: string;
  /** ms from arrival to a stream's first chunk. */
  readonly timeToFirstToken: number | null;
  /** ms from arrival to the last byte. */
  readonly duration: number;
  readonly inputTokens: number | null;
  readonly outputTokens: number | null;
}

/**
 * The latest `size` finished requests, by request id: a ring of columns, written in place as
 * each request finishes, so that keeping them allocates nothing per request; a lookup (rare: the
 * playground's) scans it, newest first. An id sent again takes a slot of its own; the newest is
 * the one found.
 */
export class RecentRequests {
  readonly #arrivedAt: Float64Array;
  readonly #requestId: string[];
  readonly #service: string[];
  readonly #model: (string | null)[];
  readonly #instance: (string | null)[];
  readonly #attempts: Uint16Array;
  readonly #fallback: (string | null)[];
  readonly #status: Uint16Array;
  readonly #outcome: string[];
  /** NaN for none. */
  readonly #timeToFirstToken: Float64Array;
  readonly #duration: Float64Array;
  /** -1 for none. */
  readonly #inputTokens: Float64Array;
  readonly #outputTokens: Float64Array;
  /** The slot the next request is written to. */
  #next = 0;
  /** How many slots hold a request. */
  #filled = 0;

  constructor(readonly size = 500) {
    this.#arrivedAt = new Float64Array(size);
    this.#requestId = new Array<string>(size).fill("");
    this.#service = new Array<string>(size).fill("");
    this.#model = new Array<string | null>(size).fill(null);
    this.#instance = new Array<string | null>(size).fill(null);
    this.#attempts = new Uint16Array(size);
    this.#fallback = new Array<string | null>(size).fill(null);
    this.#status = new Uint16Array(size);
    this.#outcome = new Array<string>(size).fill("");
    this.#timeToFirstToken = new Float64Array(size);
    this.#duration = new Float64Array(size);
    this.#inputTokens = new Float64Array(size);
    this.#outputTokens = new Float64Array(size);
  }

  /** Keeps what `request` shows of a finished request, over the oldest kept. */
  add(request: FinishedRequest): void {
    const slot = this.#next;
    this.#arrivedAt[slot] = request.arrivedAt;
    this.#requestId[slot] = request.requestId;
    this.#service[slot] = request.service;
    this.#model[slot] = request.requestedModel ?? null;
    this.#instance[slot] = request.instance?.id ?? null;
    this.#attempts[slot] = Math.min(request.attempts, 0xffff);
    this.#fallback[slot] = request.fallback ?? null;
    this.#status[slot] = request.status;
    this.#outcome[slot] = request.outcome;
    this.#timeToFirstToken[slot] = request.firstChunk ?? NaN;
    this.#duration[slot] = request.duration;
    this.#inputTokens[slot] = request.usage?.input ?? -1;
    this.#outputTokens[slot] = request.usage?.output ?? request.streamedTokens ?? -1;
    this.#next = (slot + 1) % this.size;
    if (this.#filled < this.size) this.#filled++;
  }

  /** The newest kept request with id `requestId`. */
  get(requestId: string): RecentRequest | undefined {
    for (let back = 1; back <= this.#filled; back++) {
      const slot = (this.#next - back + this.size) % this.size;
      if (this.#requestId[slot] === requestId) return this.#at(slot);
    }
    return undefined;
  }

  #at(slot: number): RecentRequest {
    const ttft = this.#timeToFirstToken[slot]!;
    const input = this.#inputTokens[slot]!;
    const output = this.#outputTokens[slot]!;
    return {
      arrivedAt: this.#arrivedAt[slot]!,
      requestId: this.#requestId[slot]!,
      service: this.#service[slot]!,
      model: this.#model[slot]?.slice(0, 200) ?? null,
      instance: this.#instance[slot] ?? null,
      attempts: this.#attempts[slot]!,
      fallback: this.#fallback[slot] ?? null,
      status: this.#status[slot]!,
      outcome: this.#outcome[slot]!,
      timeToFirstToken: Number.isNaN(ttft) ? null : ttft,
      duration: this.#duration[slot]!,
      inputTokens: input < 0 ? null : input,
      outputTokens: output < 0 ? null : output,
    };
  }
}

/** What a finished request's record tells the ring. */
export interface FinishedRequest {
  readonly arrivedAt: number;
  readonly requestId: string;
  readonly service: string;
  readonly requestedModel: string | undefined;
  readonly instance: { readonly id: string } | undefined;
  readonly attempts: number;
  readonly fallback: string | undefined;
  readonly status: number;
  readonly outcome: string;
  readonly firstChunk: number | undefined;
  readonly duration: number;
  readonly usage: { readonly input: number; readonly output: number } | undefined;
  readonly streamedTokens: number | undefined;
}

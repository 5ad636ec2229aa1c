/**
 * The latest finished client requests by request id, for the console's playground to say which
 * instance served an answer and after how many attempts: a bounded map, the oldest dropped
 * first, so that it costs the same memory however busy the gateway is.
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

/** The latest `size` finished requests, by request id. */
export class RecentRequests {
  readonly #byId = new Map<string, RecentRequest>();

  constructor(readonly size = 500) {}

  add(request: RecentRequest): void {
    // A client may send the same id twice: the later request is the one kept, as the newest.
    this.#byId.delete(request.requestId);
    this.#byId.set(request.requestId, request);
    if (this.#byId.size > this.size) this.#byId.delete(this.#byId.keys().next().value!);
  }

  get(requestId: string): RecentRequest | undefined {
    return this.#byId.get(requestId);
  }
}

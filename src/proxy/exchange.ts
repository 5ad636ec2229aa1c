/**
 * How one request is sent to an instance and how its answer comes back: byte for byte, unless
 * the instance's adapter translates (see `Translation` in `adapters/types.ts`).
 * @module
 */
import type { UpstreamAnswer } from "../transport/upstream_answer.ts";
import type { ClientBody } from "./request/body.ts";

/** One request as an instance receives it, and the client's answer made from the instance's. */
export interface Exchange {
  readonly body: Uint8Array<ArrayBuffer>;
  readonly contentType: string;
  /** Whether the client's answer streams. */
  readonly streamed: boolean;
  /**
   * The client's response to the backend's; it may read the backend's body to translate it,
   * and throws a `GatewayError` when that body is not what the backend should send.
   */
  answer(answer: UpstreamAnswer): UpstreamAnswer | Promise<UpstreamAnswer>;
  /**
   * The last bytes of a stream the backend broke off, in the client's API, for the answer
   * `answer` made last; none (or undefined) sends OpenAI's SSE error event.
   */
  readonly farewell?: ((failure: StreamFailure) => Uint8Array | undefined) | undefined;
  /**
   * The backend was asked for the `usage` the client did not ask for: the stream's usage-only
   * event is not passed on.
   */
  readonly hidesUsage?: boolean | undefined;
}

/** Why a relayed stream broke off, as its last event tells the client. */
export interface StreamFailure {
  readonly code: string;
  readonly message: string;
}

/** The client's bytes go up and the backend's come back, untouched. */
export function passThrough(body: ClientBody): Exchange {
  return {
    body: body.bytes,
    contentType: body.contentType,
    streamed: body.stream,
    answer: (answer) => answer,
  };
}

/**
 * How an instance that speaks another API than OpenAI's is spoken to: each request translated
 * on the way there, its answer on the way back.
 */
export interface Translation {
  /** Names the translation in messages; one exchange is made per request and translation. */
  readonly name: string;
  /**
   * The request as the instance receives it and the answer the client gets. Throws a
   * `GatewayError` (400) for a field the other API has no place for.
   */
  exchange(body: ClientBody, now: number): Exchange;
}

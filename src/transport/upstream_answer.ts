/**
 * A backend's answer as the gateway reads it: status, headers as they came, and a body that is
 * either already whole or still arriving. Lighter than a `Response`, whose headers are checked
 * and copied again each time one is made; the client's `Response` is made once, from this.
 * @module
 */

const decoder = new TextDecoder();

/** A body already in memory, or one still arriving. */
export type AnswerBody = Uint8Array<ArrayBuffer> | ReadableStream<Uint8Array> | null;

/** A backend's answer. */
export class UpstreamAnswer {
  readonly status: number;
  readonly statusText: string;
  /** Every header as sent, names in lower case, hop-by-hop ones included. */
  readonly headers: readonly (readonly [string, string])[];
  #body: AnswerBody;

  constructor(
    status: number,
    statusText: string,
    headers: readonly (readonly [string, string])[],
    body: AnswerBody,
  ) {
    this.status = status;
    this.statusText = statusText;
    this.headers = headers;
    this.#body = body;
  }

  /** A JSON answer the gateway made. */
  static json(value: unknown, status = 200): UpstreamAnswer {
    return new UpstreamAnswer(
      status,
      "",
      [["content-type", "application/json"]],
      encodeJson(value),
    );
  }

  /** Whether the status is 2xx. */
  get ok(): boolean {
    return this.status >= 200 && this.status < 300;
  }

  /** The first value of header `name` (lower case), or null. */
  header(name: string): string | null {
    for (const [key, value] of this.headers) if (key === name) return value;
    return null;
  }

  /** The body as it is held: bytes already whole, a stream, or null. */
  get body(): AnswerBody {
    return this.#body;
  }

  /** The body as a stream, or null. */
  stream(): ReadableStream<Uint8Array> | null {
    const body = this.#body;
    if (body === null || body instanceof ReadableStream) return body;
    return new ReadableStream({
      start(controller) {
        if (body.byteLength > 0) controller.enqueue(body);
        controller.close();
      },
    });
  }

  /** The whole body; an empty one when there is none. */
  async bytes(): Promise<Uint8Array<ArrayBuffer>> {
    const body = this.#body;
    if (body === null) return new Uint8Array();
    if (!(body instanceof ReadableStream)) return body;
    return await new Response(body).bytes();
  }

  async text(): Promise<string> {
    return decoder.decode(await this.bytes());
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }

  /** Gives up on the body, if one is still arriving. */
  async cancel(): Promise<void> {
    const body = this.#body;
    if (body instanceof ReadableStream) await body.cancel().catch(() => {});
  }
}

const encoder = new TextEncoder();

function encodeJson(value: unknown): Uint8Array<ArrayBuffer> {
  return encoder.encode(JSON.stringify(value));
}

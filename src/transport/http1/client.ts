/**
 * A lean HTTP/1.1 client for the gateway's requests to backends over plain HTTP: keep-alive
 * connections reused from a pool, one request per connection at a time, the request written
 * in one piece, and the answer handed back as soon as its head has arrived.
 * Bodies are relayed as they come, and a request aborted through its signal closes its
 * connection at once.
 *
 * It costs the gateway far less per request than `fetch`, whose general machinery (proxies,
 * decompression, redirects, HTTP/2) a proxy to a backend on the same network does not use.
 * @module
 */
import { type Schedule, scheduleDeadline } from "../../lib/deadlines.ts";
import { ConnectTimeout } from "../errors.ts";
import { bodyStream } from "./body_stream.ts";
import { Connection, ConnectionClosed } from "./connection.ts";
import { IdlePool, type IdlePoolOptions } from "./idle_pool.ts";
import { requestBytes } from "./request_head.ts";
import type { ResponseHead } from "./response_head.ts";
import type { Connect, SocketTarget } from "./socket.ts";

/** Where a request goes, and how its connection is made. */
export interface Http1Target extends SocketTarget {
  /** The `Host` header. */
  readonly host: string;
  /**
   * The request target: path and query, or the whole URL for a plain-HTTP request through a
   * proxy (RFC 9112 §3.2.2).
   */
  readonly path: string;
  /** Names the pool of connections the target shares: scheme, host, port, and proxy. */
  readonly key: string;
}

/** A request: its body is whole in memory. */
export interface Http1Request {
  readonly method: string;
  /** Header names in lower case. */
  readonly headers: ReadonlyMap<string, string>;
  readonly body: Uint8Array;
  readonly signal: AbortSignal;
  /** ms a new connection may take to open; 0 waits as long as the system does. @default 0 */
  readonly connectTimeout?: number;
}

/** An answer, handed back once its head has arrived. */
export interface Http1Answer {
  readonly status: number;
  readonly statusText: string;
  /** Every header as sent, names in lower case. */
  readonly headers: [string, string][];
  /**
   * The body: whole when it had arrived with the head, else a stream of it as it arrives;
   * null when the answer has none.
   */
  readonly body: Uint8Array<ArrayBuffer> | ReadableStream<Uint8Array> | null;
}

/** Keep-alive HTTP/1.1 requests over sockets from `connect`. */
export class Http1Client {
  readonly #connect: Connect;
  readonly #pool: IdlePool;
  readonly #schedule: Schedule;

  /** `options.schedule` times connect and idle timeouts. */
  constructor(connect: Connect, options: IdlePoolOptions = {}) {
    this.#connect = connect;
    this.#pool = new IdlePool(options);
    this.#schedule = options.schedule ?? scheduleDeadline;
  }

  /** Connections waiting for a request. */
  get idleConnections(): number {
    return this.#pool.size;
  }

  /**
   * Sends `request` and resolves with the answer once its head has arrived. The answer is read
   * while the body is still being written, so a backend that answers before it has read the
   * whole body (a `413` for an upload over its limit) is heard. Rejects with the signal's
   * reason once it aborts, and otherwise with the socket's error, a `ConnectionClosed`, a
   * `ConnectTimeout`, or a `ProtocolError`.
   */
  async request(target: Http1Target, request: Http1Request): Promise<Http1Answer> {
    const { signal } = request;
    signal.throwIfAborted();
    const bytes = requestBytes({
      method: request.method,
      target: target.path,
      host: target.host,
      headers: request.headers,
      proxyAuthorization: target.proxy && !target.tls ? target.proxy.authorization : undefined,
    }, request.body);
    let pooled = this.#pool.take(target.key);
    for (;;) {
      const connection = pooled ??
        await this.#open(target, signal, request.connectTimeout ?? 0);
      const reused = pooled !== undefined;
      pooled = undefined;
      connection.begin();
      const abort = () => connection.close();
      signal.addEventListener("abort", abort);
      const writing = writeAll(connection, bytes);
      try {
        const head = await connection.readHead(request.method);
        return this.#answer(connection, head, { signal, abort, writing });
      } catch (error) {
        signal.removeEventListener("abort", abort);
        connection.close();
        if (signal.aborted) throw signal.reason;
        // The backend closed a connection that had waited in the pool just as it was taken:
        // the request never reached it, so it goes again on a new connection.
        if (reused && !connection.received && isClosedConnection(error)) continue;
        throw error;
      }
    }
  }

  /** Closes the idle connections; busy ones close as their requests end. */
  close(): Promise<void> {
    return this.#pool.close();
  }

  async #open(
    target: Http1Target,
    signal: AbortSignal,
    connectTimeout: number,
  ): Promise<Connection> {
    const timedOut = new AbortController();
    const deadline = connectTimeout > 0
      ? this.#schedule(() => timedOut.abort(new ConnectTimeout(connectTimeout)), connectTimeout)
      : undefined;
    const either = deadline ? AbortSignal.any([signal, timedOut.signal]) : signal;
    try {
      return new Connection(await this.#connect(target, either), target.key);
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      if (timedOut.signal.aborted) throw timedOut.signal.reason;
      throw error;
    } finally {
      deadline?.cancel();
    }
  }

  #answer(
    connection: Connection,
    head: ResponseHead,
    request: { signal: AbortSignal; abort: () => void; writing: Writing },
  ): Http1Answer {
    const { signal, abort, writing } = request;
    const answer = (body: Http1Answer["body"]): Http1Answer => ({
      status: head.status,
      statusText: head.statusText,
      headers: head.headers,
      body,
    });
    const done = (reusable: boolean) => {
      signal.removeEventListener("abort", abort);
      // A request still being written when its answer ended leaves the connection mid-request.
      if (reusable && head.keepAlive && writing.finished) {
        this.#pool.put(connection, head.keepAliveTimeout);
      } else connection.close();
    };
    const { framing } = head;
    if (framing.kind === "none") {
      done(connection.start === connection.end);
      return answer(null);
    }
    if (framing.kind === "length" && connection.end - connection.start >= framing.length) {
      const start = connection.start;
      connection.start += framing.length;
      const body = connection.buffer.slice(start, connection.start);
      done(connection.start === connection.end);
      return answer(body);
    }
    return answer(
      bodyStream(connection, framing, {
        done,
        failed(error) {
          signal.removeEventListener("abort", abort);
          connection.close();
          return signal.aborted ? signal.reason : error;
        },
      }),
    );
  }
}

/** A request being written. */
interface Writing {
  /** Every byte was written. */
  readonly finished: boolean;
}

/**
 * Writes `pieces` in turn. A failed write is not an error of its own: the backend answered
 * early and closed, or the connection broke, which reading the answer tells.
 */
function writeAll(connection: Connection, pieces: readonly Uint8Array[]): Writing {
  const writing = { finished: false };
  let written = connection.write(pieces[0]!);
  for (let index = 1; index < pieces.length; index++) {
    const piece = pieces[index]!;
    written = written.then(() => connection.write(piece));
  }
  written.then(() => writing.finished = true, () => {});
  return writing;
}

/** The errors of a connection the backend had already closed. */
function isClosedConnection(error: unknown): boolean {
  return error instanceof ConnectionClosed ||
    (error instanceof Error &&
      (error.name === "ConnectionReset" || error.name === "BrokenPipe"));
}

/**
 * The one way a request of the gateway's reaches a backend: a {@linkcode Transport} sends it and
 * resolves with the backend's answer once its head has arrived.
 * @module
 */
import type { Http1Target } from "./http1/client.ts";
import type { UpstreamAnswer } from "./upstream_answer.ts";

/** Where a request goes, read when the config loads (see `transportTarget`). */
export interface TransportTarget {
  /** The whole URL: scheme, host, port, path and query. */
  readonly url: string;
  /** The target as the HTTP/1.1 client reads it. */
  readonly http1: Http1Target;
}

/** One request, its body whole in memory. */
export interface TransportRequest {
  readonly method: string;
  /** Header names in lower case. */
  readonly headers: ReadonlyMap<string, string>;
  readonly body: Uint8Array<ArrayBuffer> | null;
  /** Aborts the request, before or after its answer began. */
  readonly signal: AbortSignal;
  /**
   * ms a connection may take to open, when one must be opened; 0 leaves it to the system. The
   * transport fails with a `ConnectTimeout` when it passes.
   */
  readonly connectTimeout: number;
}

/**
 * Sends requests to backends. Rejects with the signal's reason once it aborts, a
 * `ProtocolError` for an answer that breaks HTTP, a `ConnectTimeout`, or the socket's error.
 */
export interface Transport {
  send(target: TransportTarget, request: TransportRequest): Promise<UpstreamAnswer>;
  /** Closes idle connections; requests under way finish. */
  close(): Promise<void>;
}

/** A transport of the gateway's own, closed at scope end. */
export interface OwnedTransport extends Transport, AsyncDisposable {}

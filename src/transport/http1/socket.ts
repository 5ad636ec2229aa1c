/**
 * The byte stream an HTTP/1.1 connection runs over, and how one is opened. A Deno `TcpConn`
 * is one as it is; tests can script their own.
 * @module
 */
import type { AddressCheck } from "../../net/address_policy.ts";

/** A connected, two-way byte stream. */
export interface Socket {
  /** Reads into `into`; the number of bytes read, or `null` at the end of the stream. */
  read(into: Uint8Array): Promise<number | null>;
  /** Writes some of `data`; the number of bytes written. */
  write(data: Uint8Array): Promise<number>;
  /** Closes the stream; pending reads and writes fail. */
  close(): void;
}

/** Where a connection goes. */
export interface SocketTarget {
  readonly hostname: string;
  readonly port: number;
  /** TLS over the connection, the server named `hostname`. */
  readonly tls: boolean;
  /** The HTTP proxy the connection goes through, when one does. */
  readonly proxy?: ProxyHop | undefined;
  /**
   * Which of the addresses `hostname` resolves to may be connected to, for a backend not
   * trusted with every address; undefined trusts every address. Through a proxy it is not
   * applied: the proxy resolves the name.
   */
  readonly addressCheck?: AddressCheck | undefined;
}

/** An HTTP proxy on the way to a backend. */
export interface ProxyHop {
  readonly hostname: string;
  readonly port: number;
  /** The `Proxy-Authorization` the proxy wants, from its URL's user and password. */
  readonly authorization: string | undefined;
}

/** Opens a socket to `target`, or rejects; gives up when `signal` aborts. */
export type Connect = (target: SocketTarget, signal: AbortSignal) => Promise<Socket>;

/**
 * Opens the connections the HTTP/1.1 client runs over: plain TCP, TLS (the backend's name
 * checked against its certificate, HTTP/1.1 offered by ALPN), and either of them through an
 * HTTP proxy — a TLS target through a `CONNECT` tunnel.
 *
 * A target with an address check is connected to only at an address the check allows, the one
 * resolved and checked (so a name cannot resolve to another address between the check and the
 * connection); TLS still names the host. Through a proxy the proxy resolves the name, so no
 * check applies there: egress rules belong on the proxy.
 * @module
 */
import { type Resolve, tcpConnect } from "../runtime.ts";
import type { AddressCheck } from "../net/address_policy.ts";
import { AddressRefused, ProtocolError, ProxyRefused } from "./errors.ts";
import { proxyStatusError } from "./proxy_status.ts";
import { tlsFailure } from "./tls_failure.ts";
import type { Connect, Socket, SocketTarget } from "./http1/socket.ts";
import { Connection } from "./http1/connection.ts";

/** Options for {@linkcode socketConnector}. */
export interface SocketConnectorOptions {
  /**
   * Certificates of authorities trusted besides the runtime's (PEM), for backends whose
   * certificates a private authority signed. @default none
   */
  readonly caCerts?: readonly string[];
  /** Resolves backends' host names. @default the system resolver */
  readonly resolve?: Resolve | undefined;
}

/** A `Connect` for every kind of target. */
export function socketConnector(options: SocketConnectorOptions = {}): Connect {
  const caCerts = options.caCerts ? [...options.caCerts] : undefined;
  const resolve = options.resolve ? { resolve: options.resolve } : {};
  return async (target: SocketTarget, signal: AbortSignal): Promise<Socket> => {
    const proxy = target.proxy;
    const check = target.addressCheck;
    const tcp = await tcpConnect(
      proxy ?? target,
      signal,
      proxy || !check ? resolve : {
        ...resolve,
        allowed: (addresses) => allowedAddresses(target.hostname, addresses, check),
      },
    );
    if (!target.tls) return tcp;
    let tls: Deno.TlsConn | undefined;
    try {
      if (proxy) await openTunnel(tcp, target, signal);
      // From here on the TLS connection owns the TCP one: closing it closes both.
      tls = await Deno.startTls(tcp, {
        hostname: target.hostname,
        alpnProtocols: ["http/1.1"],
        ...(caCerts ? { caCerts } : {}),
      });
      const handshaking = tls;
      await withAbort(handshaking.handshake(), signal, () => closeQuietly(handshaking));
      return tls;
    } catch (error) {
      closeQuietly(tls ?? tcp);
      throw tlsFailure(error, target.hostname) ?? error;
    }
  };
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Already closed.
  }
}

/** Those of `addresses` that `check` allows, in order; throws `AddressRefused` when none is. */
function allowedAddresses(
  hostname: string,
  addresses: readonly string[],
  check: AddressCheck,
): string[] {
  const allowed = addresses.filter((address) => check(address) === undefined);
  const first = addresses[0];
  if (allowed.length === 0 && first !== undefined) {
    const refusal = check(first)!;
    // An address target is its only address; a name says what it resolved to.
    throw new AddressRefused(first === hostname ? refusal : `"${hostname}" resolves to ${refusal}`);
  }
  return allowed;
}

const encoder = new TextEncoder();

/** Asks the proxy on `tcp` for a tunnel to `target`; resolves once it is open. */
async function openTunnel(tcp: Deno.TcpConn, target: SocketTarget, signal: AbortSignal) {
  const authority = target.hostname.includes(":")
    ? `[${target.hostname}]:${target.port}`
    : `${target.hostname}:${target.port}`;
  const authorization = target.proxy?.authorization;
  const request = `CONNECT ${authority} HTTP/1.1\r\nhost: ${authority}\r\n` +
    (authorization ? `proxy-authorization: ${authorization}\r\n` : "") + "\r\n";
  await withAbort(tcp.write(encoder.encode(request)), signal, () => tcp.close());
  // The proxy's answer is read as any answer is, by the HTTP/1.1 client's connection.
  const connection = new Connection(tcp, "tunnel");
  const head = await withAbort(connection.readHead("CONNECT"), signal, () => tcp.close());
  if (head.status < 200 || head.status > 299) {
    const proxyStatus = head.headers.find(([name]) => name === "proxy-status")?.[1];
    throw new ProxyRefused(head.status, { tunnel: true, error: proxyStatusError(proxyStatus) });
  }
  // The backend speaks only after the TLS handshake begins: anything more is not a tunnel.
  if (connection.end > connection.start) {
    throw new ProtocolError("the proxy sent data before the tunnel opened");
  }
}

/** `promise`, or the signal's reason once it aborts, calling `onAbort` to stop the work. */
function withAbort<T>(promise: Promise<T>, signal: AbortSignal, onAbort: () => void): Promise<T> {
  if (signal.aborted) {
    onAbort();
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const abort = () => {
      onAbort();
      reject(signal.reason);
    };
    signal.addEventListener("abort", abort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", abort));
  });
}

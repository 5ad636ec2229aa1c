/**
 * A request's client address and the `X-Forwarded-For` to send upstream, from the socket peer
 * and, only when the peer is a trusted proxy, the chain it forwarded. Built once per config.
 * @module
 */
import { CidrSet } from "./cidr.ts";
import { clientIpOf } from "./client_ip.ts";

/** Where a request comes from. */
export interface Origin {
  /** The client's address, as limits, `ip-hash` and logs see it. */
  readonly clientIp: string;
  /** The chain of addresses to send upstream: the trusted chain received, then the peer. */
  readonly forwardedFor: string;
}

/** Tells the origin of requests, trusting the proxies in `trustedProxies` (addresses, CIDRs). */
export function originReader(
  trustedProxies: readonly string[],
): (peer: string, headers: Headers) => Origin {
  if (trustedProxies.length === 0) return (peer) => ({ clientIp: peer, forwardedFor: peer });
  const trusted = new CidrSet(trustedProxies);
  return (peer, headers) => {
    const received = headers.get("x-forwarded-for");
    const chain = received && trusted.has(peer) ? received : null;
    return {
      clientIp: clientIpOf(peer, headers, trusted),
      forwardedFor: chain ? `${chain}, ${peer}` : peer,
    };
  };
}

/**
 * What telling a request's origin costs, per request, with trusted proxies configured (without
 * them nothing is parsed), and the two ways of reading IPv4 that `src/net/cidr.ts` chose between.
 *
 * Usage: `deno bench --no-check bench/client_ip_bench.ts`
 * @module
 */
import ipaddr from "ipaddr.js";
import { parseIp } from "../src/net/cidr.ts";
import { originReader } from "../src/net/forwarding.ts";

const read = originReader(["10.0.0.0/8", "172.16.0.0/12", "fd00::/8", "127.0.0.1"]);
const none = new Headers();
const chain = new Headers({ "x-forwarded-for": "203.0.113.7, 10.0.0.2" });
const forwarded = new Headers({ forwarded: 'for=203.0.113.7, for="[fd00::2]:80"' });
const requests: readonly (readonly [name: string, peer: string, headers: Headers])[] = [
  ["untrusted IPv4 peer, no headers", "203.0.113.7", none],
  ["untrusted IPv4 peer, spoofed X-Forwarded-For", "203.0.113.7", chain],
  ["trusted IPv4 peer, X-Forwarded-For of 2", "10.0.0.1", chain],
  ["untrusted IPv6 peer, no headers", "2001:db8::9", none],
  ["trusted IPv4-mapped peer, Forwarded with an IPv6 hop", "::ffff:10.0.0.1", forwarded],
];

let sink = 0;
for (const [name, peer, headers] of requests) {
  Deno.bench(name, { group: "origin" }, () => {
    sink += read(peer, headers).clientIp.length;
  });
}

Deno.bench("IPv4: isValidFourPartDecimal, then IPv4.parse", { group: "ipv4" }, () => {
  const text = "203.0.113.7";
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) sink += ipaddr.IPv4.parse(text).octets.length;
});

Deno.bench("IPv4: parseIp (strict pattern, then new IPv4)", { group: "ipv4" }, () => {
  sink += parseIp("203.0.113.7")?.toByteArray().length ?? 0;
});

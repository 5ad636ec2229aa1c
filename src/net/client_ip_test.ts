import assert from "node:assert/strict";
import { CidrSet, parseIp } from "./cidr.ts";
import { clientIpOf } from "./client_ip.ts";

const PROXIES = new CidrSet(["10.0.0.0/8", "fd00::/8"]);
const PROXY = "10.0.0.1";
const CLIENT = "203.0.113.7";

function headers(entries: Record<string, string | readonly string[]>): Headers {
  const result = new Headers();
  for (const [name, value] of Object.entries(entries)) {
    for (const line of typeof value === "string" ? [value] : value) result.append(name, line);
  }
  return result;
}

function viaProxy(entries: Record<string, string | readonly string[]>): string {
  return clientIpOf(PROXY, headers(entries), PROXIES);
}

Deno.test("the peer is the client when there are no headers", () => {
  assert.equal(clientIpOf(CLIENT, new Headers(), PROXIES), CLIENT);
  assert.equal(clientIpOf(PROXY, new Headers(), PROXIES), PROXY);
  assert.equal(clientIpOf(PROXY, headers({ "x-forwarded-for": "" }), PROXIES), PROXY);
});

Deno.test("headers from a peer that is not a trusted proxy are ignored", () => {
  const spoofed = headers({ "x-forwarded-for": "1.1.1.1", forwarded: "for=2.2.2.2" });
  assert.equal(clientIpOf(CLIENT, spoofed, PROXIES), CLIENT);
  assert.equal(clientIpOf("2001:db8::9", spoofed, PROXIES), "2001:db8::9");
});

Deno.test("without trusted proxies, headers change nothing", () => {
  const spoofed = headers({ "x-forwarded-for": "1.1.1.1", forwarded: "for=2.2.2.2" });
  assert.equal(clientIpOf(PROXY, spoofed, undefined), PROXY);
  assert.equal(clientIpOf(PROXY, spoofed, new CidrSet([])), PROXY);
});

Deno.test("a trusted proxy's X-Forwarded-For names the client", () => {
  assert.equal(viaProxy({ "x-forwarded-for": CLIENT }), CLIENT);
});

Deno.test("entries a client prepends to X-Forwarded-For are never reached", () => {
  assert.equal(viaProxy({ "x-forwarded-for": `6.6.6.6, 10.9.9.9, ${CLIENT}` }), CLIENT);
});

Deno.test("a chain of trusted proxies is followed back to the first untrusted address", () => {
  assert.equal(viaProxy({ "x-forwarded-for": `6.6.6.6, ${CLIENT}, 10.0.0.3, 10.0.0.2` }), CLIENT);
});

Deno.test("when every forwarded address is trusted, the leftmost is the client", () => {
  assert.equal(viaProxy({ "x-forwarded-for": "10.0.0.4, 10.0.0.3, 10.0.0.2" }), "10.0.0.4");
});

Deno.test("several X-Forwarded-For lines are read as one list", () => {
  assert.equal(viaProxy({ "x-forwarded-for": ["6.6.6.6", `${CLIENT}, 10.0.0.2`] }), CLIENT);
  assert.equal(viaProxy({ "x-forwarded-for": ["6.6.6.6", CLIENT] }), CLIENT);
});

Deno.test("an entry that is not an address ends the walk at the last trusted address", () => {
  assert.equal(viaProxy({ "x-forwarded-for": `${CLIENT}, garbage, 10.0.0.2` }), "10.0.0.2");
  assert.equal(viaProxy({ "x-forwarded-for": `${CLIENT}, unknown` }), PROXY);
  assert.equal(viaProxy({ "x-forwarded-for": "999.1.1.1" }), PROXY);
  assert.equal(viaProxy({ "x-forwarded-for": "1.2.3.4:99999" }), PROXY);
  assert.equal(viaProxy({ "x-forwarded-for": "[2001:db8::1" }), PROXY);
  assert.equal(viaProxy({ "x-forwarded-for": "[2001:db8::1]443" }), PROXY);
});

Deno.test("empty X-Forwarded-For entries are skipped", () => {
  assert.equal(viaProxy({ "x-forwarded-for": `6.6.6.6,, ${CLIENT} , ,` }), CLIENT);
});

Deno.test("ports and brackets are stripped from forwarded addresses", () => {
  assert.equal(viaProxy({ "x-forwarded-for": "1.2.3.4:5678" }), "1.2.3.4");
  assert.equal(viaProxy({ "x-forwarded-for": "[2001:db8::1]:443" }), "2001:db8::1");
  assert.equal(viaProxy({ "x-forwarded-for": "[2001:db8::1]" }), "2001:db8::1");
  assert.equal(viaProxy({ "x-forwarded-for": "2001:DB8:0::1" }), "2001:db8::1");
});

Deno.test("IPv4-mapped addresses are written as IPv4, for the peer too", () => {
  assert.equal(clientIpOf("::ffff:203.0.113.7", new Headers(), PROXIES), CLIENT);
  assert.equal(
    clientIpOf("::ffff:10.0.0.1", headers({ "x-forwarded-for": CLIENT }), PROXIES),
    CLIENT,
  );
  assert.equal(viaProxy({ "x-forwarded-for": "::ffff:203.0.113.7" }), CLIENT);
  assert.equal(viaProxy({ "x-forwarded-for": `${CLIENT}, ::ffff:10.0.0.2` }), CLIENT);
});

Deno.test("IPv6 peers and chains are followed like IPv4 ones", () => {
  const chain = headers({ "x-forwarded-for": "2001:db8::6, 2001:db8::7, fd00::2" });
  assert.equal(clientIpOf("fd00::1", chain, PROXIES), "2001:db8::7");
  assert.equal(clientIpOf("[fd00::1]:8080", chain, PROXIES), "2001:db8::7");
  assert.equal(clientIpOf("fd00::1%eth0", chain, PROXIES), "2001:db8::7");
});

Deno.test("a peer that is not an IP address is returned as it is, and no header is read", () => {
  const spoofed = headers({ "x-forwarded-for": CLIENT });
  assert.equal(clientIpOf("unknown", spoofed, PROXIES), "unknown");
  assert.equal(clientIpOf("", spoofed, PROXIES), "");
  assert.equal(clientIpOf("10.0.0.1:80", spoofed, PROXIES), CLIENT, "a peer port is tolerated");
});

Deno.test("Forwarded is preferred over X-Forwarded-For", () => {
  assert.equal(
    viaProxy({ forwarded: `for=${CLIENT}`, "x-forwarded-for": "198.51.100.1" }),
    CLIENT,
  );
});

Deno.test("Forwarded elements are walked from the right past trusted proxies", () => {
  assert.equal(
    viaProxy({
      forwarded: `for=6.6.6.6, for=${CLIENT};proto=https;by=10.0.0.2, For="10.0.0.2:8443"`,
    }),
    CLIENT,
  );
  assert.equal(viaProxy({ forwarded: [`for=6.6.6.6`, `for=${CLIENT}`, "for=10.0.0.2"] }), CLIENT);
  assert.equal(viaProxy({ forwarded: "for=10.0.0.3, for=10.0.0.2" }), "10.0.0.3");
});

Deno.test("Forwarded IPv6 nodes are read in brackets, with or without a port", () => {
  assert.equal(viaProxy({ forwarded: `for="[2001:db8:cafe::17]:4711"` }), "2001:db8:cafe::17");
  assert.equal(viaProxy({ forwarded: `for="[2001:db8:cafe::17]"` }), "2001:db8:cafe::17");
  assert.equal(viaProxy({ forwarded: `for="_gazonk"` }), PROXY);
  assert.equal(viaProxy({ forwarded: `for="[2001:db8::17]:_port"` }), "2001:db8::17");
  assert.equal(viaProxy({ forwarded: "for=[2001:db8::17]:80" }), "2001:db8::17", "unquoted");
});

Deno.test("Forwarded unknown or obfuscated nodes end the walk at the last trusted address", () => {
  assert.equal(viaProxy({ forwarded: "for=unknown" }), PROXY);
  assert.equal(viaProxy({ forwarded: `for=${CLIENT}, for=_hidden, for=10.0.0.2` }), "10.0.0.2");
  assert.equal(viaProxy({ forwarded: `for=${CLIENT}, proto=https, for=10.0.0.2` }), "10.0.0.2");
});

Deno.test("X-Forwarded-For is read when the last Forwarded element has no for= or is broken", () => {
  const xff = { "x-forwarded-for": CLIENT };
  assert.equal(viaProxy({ forwarded: "proto=https", ...xff }), CLIENT);
  assert.equal(viaProxy({ forwarded: "for=6.6.6.6, proto=https", ...xff }), CLIENT);
  assert.equal(viaProxy({ forwarded: `for="6.6.6.6`, ...xff }), CLIENT);
  assert.equal(viaProxy({ forwarded: "", ...xff }), CLIENT);
  assert.equal(viaProxy({ forwarded: "for=6.6.6.6;", ...xff }), CLIENT);
});

Deno.test("a malformed Forwarded part written by the client cannot hide what proxies appended", () => {
  assert.equal(
    viaProxy({ forwarded: [`for="6.6.6.6`, `for="[2001:db8::7]:4711"`] }),
    "2001:db8::7",
  );
  assert.equal(viaProxy({ forwarded: [`for=6.6.6.6;;"`, `for=${CLIENT}`] }), CLIENT);
  assert.equal(viaProxy({ forwarded: [`for=${CLIENT}, ==;x`, `for=10.0.0.2`] }), "10.0.0.2");
});

Deno.test("Forwarded quoted strings may hold commas, semicolons and escaped quotes", () => {
  assert.equal(
    viaProxy({ forwarded: `for=6.6.6.6, for=${CLIENT};by="a\\",; for=6.6.6.6", for=10.0.0.2` }),
    CLIENT,
  );
  assert.equal(viaProxy({ forwarded: `for="\\[2001:db8::7\\]"` }), "2001:db8::7");
  assert.equal(viaProxy({ forwarded: `for=${CLIENT};by="x\\"` }), PROXY, "escaped closing quote");
});

Deno.test("a Forwarded element with two for= parameters cannot be read", () => {
  assert.equal(viaProxy({ forwarded: `for=${CLIENT};for=6.6.6.6, for=10.0.0.2` }), "10.0.0.2");
});

Deno.test("Forwarded tolerates spaces around separators and empty elements", () => {
  assert.equal(viaProxy({ forwarded: `  for=${CLIENT} ;  proto=http ,, for=10.0.0.2 ,` }), CLIENT);
});

Deno.test("header garbage yields the last trusted hop or an untrusted address, never a throw", () => {
  const pieces = [
    ...`"\\,;= :[]_.0`,
    "for=",
    "For=",
    "1.2.3.4",
    "2001:db8::1",
    "unknown",
    "_x",
    ":80",
  ];
  let seed = 12_345;
  const nextIndex = (limit: number) => {
    seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
    return (seed >>> 8) % limit;
  };
  const outcomes = { lastTrusted: 0, untrusted: 0 };
  for (let round = 0; round < 2_000; round++) {
    let garbage = "";
    for (let length = nextIndex(12); length > 0; length--) {
      garbage += pieces[nextIndex(pieces.length)];
    }
    for (
      const entries of [
        { forwarded: `${garbage}, for=10.0.0.2` },
        { "x-forwarded-for": `${garbage}, 10.0.0.2` },
      ]
    ) {
      const client = viaProxy(entries);
      if (client === "10.0.0.2") outcomes.lastTrusted++;
      else {
        assert.ok(parseIp(client) !== undefined && !PROXIES.has(client), `${garbage} → ${client}`);
        outcomes.untrusted++;
      }
    }
  }
  assert.ok(outcomes.lastTrusted > 20 && outcomes.untrusted > 20, JSON.stringify(outcomes));
});

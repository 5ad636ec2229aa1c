import assert from "node:assert/strict";
import ipaddr from "ipaddr.js";
import {
  cidrProblem,
  CidrSet,
  formatIp,
  type IpAddress,
  ipProblem,
  normalizeIp,
  parseCidr,
  parseIp,
} from "./cidr.ts";

function cidrText(text: string): string {
  const result = parseCidr(text);
  assert.ok(result.ok, result.ok ? "" : result.problem);
  return result.cidr.text;
}

Deno.test("IPv4 and IPv6 ranges parse to their canonical text", () => {
  assert.equal(cidrText("10.0.0.0/8"), "10.0.0.0/8");
  assert.equal(cidrText("0.0.0.0/0"), "0.0.0.0/0");
  assert.equal(cidrText("fd00::/8"), "fd00::/8");
  assert.equal(cidrText("FD00:0:0::/8"), "fd00::/8");
  assert.equal(cidrText("2001:db8::/32"), "2001:db8::/32");
  assert.equal(cidrText("::/0"), "::/0");
});

Deno.test("a bare address is a range of one address", () => {
  assert.equal(cidrText("127.0.0.1"), "127.0.0.1/32");
  assert.equal(cidrText("::1"), "::1/128");
  const result = parseCidr("192.0.2.7");
  assert.ok(result.ok);
  assert.equal(result.cidr.network.kind(), "ipv4");
  assert.deepEqual(result.cidr.network.toByteArray(), [192, 0, 2, 7]);
  assert.equal(result.cidr.prefix, 32);
});

Deno.test("an IPv4-mapped address or range is the IPv4 address or range it maps", () => {
  assert.equal(cidrText("::ffff:10.1.2.3"), "10.1.2.3/32");
  assert.equal(cidrText("::ffff:10.0.0.0/104"), "10.0.0.0/8");
  assert.equal(cidrText("::ffff:0:0/96"), "0.0.0.0/0");
  assert.equal(cidrText("0:0:0:0:0:ffff:7f00:1"), "127.0.0.1/32");
  assert.equal(normalizeIp("::FFFF:192.0.2.1"), "192.0.2.1");
  assert.equal(parseIp("::ffff:c000:201")?.kind(), "ipv4");
  assert.deepEqual(parseIp("::ffff:c000:201")?.toByteArray(), [192, 0, 2, 1]);
});

Deno.test("a zone id is accepted and left out", () => {
  assert.equal(cidrText("fe80::1%eth0"), "fe80::1/128");
  assert.equal(cidrText("fe80::%en0/64"), "fe80::/64");
  assert.equal(normalizeIp("fe80::1%25"), "fe80::1");
  assert.match(ipProblem("fe80::1%")!, /zone id after % is empty/);
  assert.match(ipProblem("10.0.0.1%eth0")!, /"1%eth0" is not a number from 0 to 255/);
});

Deno.test("bad input gets a message that says what is wrong", () => {
  const cases: [string, RegExp][] = [
    ["", /it is empty/],
    ["localhost", /neither as IPv4 \(1\.2\.3\.4\) nor as IPv6/],
    ["10.0.0", /4 numbers separated by dots/],
    ["10.0.0.0.0", /4 numbers separated by dots/],
    ["10..0.0", /4 numbers separated by dots/],
    ["10.0.0.256", /"256" is not a number from 0 to 255/],
    ["10.0.0.-1", /"-1" is not a number from 0 to 255/],
    ["010.0.0.1", /"010" has a leading zero/],
    ["10.0.0.0/33", /prefix length 33 is more than 32/],
    ["fd00::/129", /prefix length 129 is more than 128/],
    ["10.0.0.0/", /prefix length "" is not a whole number/],
    ["10.0.0.0/8/8", /prefix length "8\/8" is not a whole number/],
    ["10.0.0.0/ 8", /prefix length " 8" is not a whole number/],
    ["1::2::3", /"::" appears more than once/],
    ["12345::", /"12345" has more than 4 hex digits/],
    ["1:2:3:4:5:6:7:8:9", /more than 8 groups/],
    ["1:2:3:4:5:6:7", /7 groups of hex digits, not 8/],
    ["1:2:3:4:5:6:7::8", /"::" stands for no group at all/],
    [":1", /starts with a single ":"/],
    ["1:", /ends with a single ":"/],
    [":::", /":" is not a hex digit/],
    ["fd0g::", /"g" is not a hex digit/],
    ["::ffff:1.2.3", /4 numbers separated by dots/],
    ["1:2:3:4:5:6:7:1.2.3.4", /more than 8 groups/],
    [" 10.0.0.1", /" 10" is not a number/],
  ];
  for (const [text, message] of cases) {
    const problem = cidrProblem(text);
    assert.ok(problem !== undefined, `${JSON.stringify(text)} should be refused`);
    assert.match(problem, message, text);
    assert.ok(problem.startsWith(`"${text}" is not a CIDR range or an IP address: `), problem);
  }
  assert.equal(cidrProblem("10.0.0.0/8"), undefined);
});

Deno.test("a range with bits set past its prefix is refused, naming the range it falls in", () => {
  assert.match(
    cidrProblem("10.1.0.0/8")!,
    /bits set past the \/8 prefix; the range it falls in is 10\.0\.0\.0\/8/,
  );
  assert.match(cidrProblem("192.168.1.0/16")!, /192\.168\.0\.0\/16/);
  assert.match(cidrProblem("fd12::/8")!, /fd00::\/8/);
  assert.match(cidrProblem("::ffff:10.1.0.0/104")!, /10\.0\.0\.0\/8/);
  assert.match(cidrProblem("::ffff:0:0/95")!, /::fffe:0:0\/95/);
});

Deno.test("IPv6 addresses are written canonically", () => {
  assert.equal(normalizeIp("2001:DB8:0:0:1:0:0:1"), "2001:db8::1:0:0:1");
  assert.equal(normalizeIp("2001:db8:0:0:0:0:2:1"), "2001:db8::2:1");
  assert.equal(normalizeIp("2001:db8:0:1:1:1:1:1"), "2001:db8:0:1:1:1:1:1");
  assert.equal(normalizeIp("0:0:0:0:0:0:0:0"), "::");
  assert.equal(normalizeIp("1::"), "1::");
  assert.equal(normalizeIp("::0001"), "::1");
  assert.equal(normalizeIp("::1.2.3.4"), "::102:304");
  assert.equal(normalizeIp("10.20.30.40"), "10.20.30.40");
  assert.equal(normalizeIp("not an address"), undefined);
  const ip: IpAddress = new ipaddr.IPv6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1]);
  assert.equal(formatIp(ip), "2001:db8::1");
});

Deno.test("a set holds exactly the addresses of its ranges, ends included", () => {
  const set = new CidrSet(["10.0.0.0/8", "192.168.1.0/24", "fd00::/8", "::1", "2001:db8::/127"]);
  const holds = (address: string) => set.has(address);
  assert.equal(holds("10.0.0.0"), true);
  assert.equal(holds("10.255.255.255"), true);
  assert.equal(holds("9.255.255.255"), false);
  assert.equal(holds("11.0.0.0"), false);
  assert.equal(holds("192.168.1.77"), true);
  assert.equal(holds("192.168.2.0"), false);
  assert.equal(holds("fd00::"), true);
  assert.equal(holds("fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), true);
  assert.equal(holds("fe00::"), false);
  assert.equal(holds("fc00::1"), false);
  assert.equal(holds("::1"), true);
  assert.equal(holds("::2"), false);
  assert.equal(holds("::"), false);
  assert.equal(holds("2001:db8::1"), true);
  assert.equal(holds("2001:db8::2"), false);
  assert.equal(holds("255.255.255.255"), false);
  assert.equal(holds("0.0.0.0"), false);
});

Deno.test("an IPv4-mapped address matches IPv4 ranges, and a mapped range holds IPv4", () => {
  const set = new CidrSet(["10.0.0.0/8", "::ffff:172.16.0.0/108"]);
  assert.equal(set.has("::ffff:10.1.2.3"), true);
  assert.equal(set.has("::ffff:a01:203"), true);
  assert.equal(set.has("::ffff:11.1.2.3"), false);
  assert.equal(set.has("172.31.255.255"), true);
  assert.equal(set.has("172.32.0.0"), false);
  assert.equal(set.has("::a01:203"), false, "IPv4-compatible is not IPv4-mapped");
});

Deno.test("an IPv6 range covering the IPv4-mapped block holds IPv4 addresses", () => {
  assert.equal(new CidrSet(["::/0"]).has("203.0.113.9"), true);
  assert.equal(new CidrSet(["::ffff:0:0/96"]).has("203.0.113.9"), true);
  assert.equal(new CidrSet(["fd00::/8"]).has("203.0.113.9"), false);
  assert.equal(new CidrSet(["0.0.0.0/0"]).has("::1"), false);
  assert.equal(new CidrSet(["0.0.0.0/0"]).has("255.255.255.255"), true);
});

Deno.test("zone ids are ignored when looking up an address", () => {
  const set = new CidrSet(["fe80::/10"]);
  assert.equal(set.has("fe80::1%eth0"), true);
  assert.equal(set.has("fe80::1%"), false);
});

Deno.test("overlapping and adjacent ranges merge without changing what the set holds", () => {
  const set = new CidrSet([
    "10.0.0.0/9",
    "10.128.0.0/9",
    "10.1.0.0/16",
    "10.0.0.0/8",
    "11.0.0.0/8",
  ]);
  assert.equal(set.has("10.127.255.255"), true);
  assert.equal(set.has("10.128.0.0"), true);
  assert.equal(set.has("11.255.255.255"), true);
  assert.equal(set.has("12.0.0.0"), false);
  assert.equal(set.cidrs.length, 5, "the ranges as given are kept");
});

Deno.test("a set answers false for anything that is not an IP address", () => {
  const set = new CidrSet(["0.0.0.0/0", "::/0"]);
  for (const text of ["", "unknown", "_hidden", "1.2.3.4:80", "[::1]", "1.2.3.4 ", "::1::"]) {
    assert.equal(set.has(text), false, text);
  }
});

Deno.test("an empty set holds nothing and says it is empty", () => {
  const set = new CidrSet([]);
  assert.equal(set.isEmpty, true);
  assert.equal(set.has("127.0.0.1"), false);
  assert.equal(set.has("::1"), false);
  assert.equal(new CidrSet(["::1"]).isEmpty, false);
});

Deno.test("building a set from bad entries throws naming each of them", () => {
  assert.throws(
    () => new CidrSet(["10.0.0.0/8", "10.0.0.0/33", "nonsense"]),
    (error: unknown) =>
      error instanceof TypeError && error.message.includes('"10.0.0.0/33"') &&
      error.message.includes('"nonsense"') && !error.message.includes('"10.0.0.0/8"'),
  );
});

Deno.test("a set accepts ranges already parsed", () => {
  const parsed = parseCidr("198.51.100.0/24");
  assert.ok(parsed.ok);
  const set = new CidrSet([parsed.cidr, "2001:db8::/32"]);
  assert.equal(set.has("198.51.100.200"), true);
  assert.equal(set.has("2001:db8:ffff::1"), true);
});

/** A deterministic pseudo-random source (mulberry32). */
function randomSource(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = Math.imul(state ^ (state >>> 15), 1 | state);
    mixed = (mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed)) ^ mixed;
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 0x1_0000_0000;
  };
}

function toBits(ip: IpAddress): bigint {
  const bits = ip.toByteArray().reduce((bits, byte) => (bits << 8n) | BigInt(byte), 0n);
  return ip.kind() === "ipv4" ? 0xffff_0000_0000n | bits : bits;
}

Deno.test("canonical IPv6 text reads back as the same address", () => {
  const random = randomSource(11);
  // Mostly zero groups, so that runs of zeros of every length and position turn up.
  const group = () => (random() < 0.6 ? 0 : Math.floor(random() * 0x1_0000));
  for (let round = 0; round < 2_000; round++) {
    const ip = new ipaddr.IPv6(Array.from({ length: 8 }, group));
    const text = formatIp(ip);
    const read = parseIp(text);
    const bytes = ip.toByteArray();
    const mapped = ip.parts.slice(0, 6).join() === "0,0,0,0,0,65535";
    assert.equal(read?.kind(), mapped ? "ipv4" : "ipv6", text);
    assert.deepEqual(read.toByteArray(), mapped ? bytes.slice(12) : bytes, text);
    assert.ok(!/(^|:)0[0-9a-f]/.test(text) && !text.includes(":::"), text);
  }
});

Deno.test("lookups agree with checking every range one by one", () => {
  const random = randomSource(7);
  const below = (limit: number) => Math.floor(random() * limit);
  // Addresses drawn from two small neighbourhoods, so that ranges and lookups collide often.
  const nearby = (): IpAddress =>
    random() < 0.5
      ? new ipaddr.IPv4([10, 0, below(4), below(0x100)])
      : new ipaddr.IPv6([0xfd00, 0, 0, 0, 0, below(2), 0, below(0x400)]);
  const outcomes = { held: 0, notHeld: 0 };
  for (let round = 0; round < 20; round++) {
    const texts: string[] = [];
    for (let count = 0; count <= round; count++) {
      const ip = nearby();
      const prefix = (ip.kind() === "ipv4" ? 32 : 128) - below(10);
      const result = parseCidr(`${formatIp(ip)}/${prefix}`);
      // A range with bits past its prefix is refused; take the range it falls in instead.
      texts.push(result.ok ? result.cidr.text : result.problem.split("falls in is ")[1]!);
    }
    const set = new CidrSet(texts);
    const ranges = set.cidrs.map((cidr) => {
      const width = cidr.network.kind() === "ipv4" ? cidr.prefix + 96 : cidr.prefix;
      const first = toBits(cidr.network);
      return { first, last: first | ((1n << BigInt(128 - width)) - 1n) };
    });
    for (let probe = 0; probe < 500; probe++) {
      const ip = nearby();
      const bits = toBits(ip);
      const expected = ranges.some((range) => range.first <= bits && bits <= range.last);
      assert.equal(set.contains(ip), expected, `${formatIp(ip)} in ${texts.join(" ")}`);
      outcomes[expected ? "held" : "notHeld"]++;
    }
  }
  assert.ok(outcomes.held > 1_000 && outcomes.notHeld > 1_000, JSON.stringify(outcomes));
});

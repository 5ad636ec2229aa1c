/**
 * IP addresses and CIDR ranges, read and matched with ipaddr.js: parsing with clear messages for
 * config validation, canonical formatting, and {@linkcode CidrSet}, a set of ranges built once and
 * asked per request whether it holds an address.
 *
 * Addresses are read strictly: IPv4 only as four decimal numbers without leading zeros, also
 * inside IPv6 (`::ffff:10.1.2.3`), where ipaddr.js on its own would take octal, hex or fewer
 * numbers. An IPv4-mapped IPv6 address (`::ffff:10.1.2.3`) is the IPv4 address it maps, wherever
 * it appears: as an address, it is matched against IPv4 ranges; as a range
 * (`::ffff:10.0.0.0/104`), it is the IPv4 range `10.0.0.0/8`. An IPv6 range that covers the
 * mapped block `::ffff:0:0/96`, such as `::/0`, also holds every IPv4 address. A zone id
 * (`fe80::1%eth0`) is accepted and ignored: it names a local interface, not part of the address.
 * @module
 */
import ipaddr from "ipaddr.js";

/** An IP address. IPv4-mapped IPv6 addresses are read as IPv4. */
export type IpAddress = ipaddr.IPv4 | ipaddr.IPv6;

/** A range of addresses: every address whose first `prefix` bits are those of `network`. */
export interface Cidr {
  /** The first address of the range; its bits past the prefix are all zero. */
  readonly network: IpAddress;
  /** The number of leading bits that addresses in the range share: 0-32 or 0-128. */
  readonly prefix: number;
  /** The range written canonically, e.g. `10.0.0.0/8` or `fd00::/8`. */
  readonly text: string;
}

/** What {@linkcode parseCidr} answers. */
export type CidrResult =
  | { readonly ok: true; readonly cidr: Cidr }
  | { readonly ok: false; readonly problem: string };

/** Reads an IP address; undefined when `text` is not one. See {@linkcode ipProblem} for why. */
export function parseIp(text: string): IpAddress | undefined {
  if (!text.includes(":")) return parseIPv4(text);
  // How a dual-stack socket writes an IPv4 peer; read without the IPv6 parser, for speed.
  const mapped = MAPPED_PREFIX.test(text) ? parseIPv4(text.slice(7)) : undefined;
  if (mapped !== undefined) return mapped;
  const percent = text.indexOf("%");
  if (percent === text.length - 1) return undefined;
  const hex = withHexTail(percent < 0 ? text : text.slice(0, percent));
  if (hex === undefined) return undefined;
  let ip: ipaddr.IPv6;
  try {
    ip = ipaddr.IPv6.parse(hex);
  } catch {
    return undefined;
  }
  return ip.match(MAPPED_BLOCK) ? ipaddr.fromByteArray(ip.toByteArray().slice(12)) : ip;
}

/** Why `text` is not an IP address, as a sentence; undefined when it is one. */
export function ipProblem(text: string): string | undefined {
  return parseIp(text) === undefined
    ? `"${text}" is not an IP address: ${whyNotIp(text)}`
    : undefined;
}

/** The address written canonically (RFC 5952 for IPv6), e.g. `2001:db8::1` or `10.1.2.3`. */
export function formatIp(ip: IpAddress): string {
  return ip.toString();
}

/**
 * `text` written canonically: lowercase, zeros compressed, IPv4-mapped addresses as IPv4, no
 * zone id. Undefined when `text` is not an IP address.
 */
export function normalizeIp(text: string): string | undefined {
  return parseIp(text)?.toString();
}

/**
 * Reads a CIDR range (`10.0.0.0/8`, `fd00::/8`) or a bare address, which is a range of one
 * (`/32` or `/128`). A range with bits set past its prefix (`10.0.0.1/8`) is refused rather than
 * silently widened, since it is usually a typo.
 */
export function parseCidr(text: string): CidrResult {
  const slash = text.indexOf("/");
  const addressText = slash < 0 ? text : text.slice(0, slash);
  const ip = parseIp(addressText);
  if (ip === undefined) return refuse(text, whyNotIp(addressText));
  if (slash < 0) return accept(ip, ip.kind() === "ipv4" ? 32 : 128);
  const prefixText = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText)) {
    return refuse(text, `the prefix length "${prefixText}" is not a whole number`);
  }
  let prefix = Number(prefixText);
  const bits = addressText.includes(":") ? 128 : 32;
  if (prefix > bits) {
    return refuse(
      text,
      `the prefix length ${prefix} is more than ${bits}, the bits of IPv${bits === 32 ? 4 : 6}`,
    );
  }
  let written = ip;
  if (ip instanceof ipaddr.IPv4 && bits === 128) {
    // A mapped network with a prefix inside the IPv4 bits is an IPv4 range.
    if (prefix >= 96) prefix -= 96;
    else written = ip.toIPv4MappedAddress();
  }
  const family = written instanceof ipaddr.IPv4 ? ipaddr.IPv4 : ipaddr.IPv6;
  const network = family.networkAddressFromCIDR(`${written}/${prefix}`);
  if (network.toString() !== written.toString()) {
    return refuse(
      text,
      `the address has bits set past the /${prefixText} prefix; ` +
        `the range it falls in is ${network}/${prefix}`,
    );
  }
  return accept(network, prefix);
}

/** Why `text` is not a CIDR range or an address, as a sentence; undefined when it is one. */
export function cidrProblem(text: string): string | undefined {
  const result = parseCidr(text);
  return result.ok ? undefined : result.problem;
}

/**
 * A set of CIDR ranges, built once and then asked, per request, whether it holds an address. The
 * ranges are parsed when the set is built; a lookup matches the parsed address against the
 * ranges of its family.
 */
export class CidrSet {
  /** The ranges as given, parsed. */
  readonly cidrs: readonly Cidr[];
  readonly #ipv4: readonly (readonly [ipaddr.IPv4, number])[];
  readonly #ipv6: readonly (readonly [ipaddr.IPv6, number])[];

  /**
   * Builds the set; throws a `TypeError` naming every entry that is not a range or an address.
   * Config validation can report each entry on its own with {@linkcode cidrProblem}.
   */
  constructor(cidrs: Iterable<string | Cidr>) {
    const parsed: Cidr[] = [];
    const problems: string[] = [];
    for (const entry of cidrs) {
      if (typeof entry !== "string") {
        parsed.push(entry);
        continue;
      }
      const result = parseCidr(entry);
      if (result.ok) parsed.push(result.cidr);
      else problems.push(result.problem);
    }
    if (problems.length > 0) throw new TypeError(problems.join("\n"));
    this.cidrs = parsed;

    const ipv4: [ipaddr.IPv4, number][] = [];
    const ipv6: [ipaddr.IPv6, number][] = [];
    for (const { network, prefix } of parsed) {
      if (network instanceof ipaddr.IPv4) {
        ipv4.push([network, prefix]);
        continue;
      }
      ipv6.push([network, prefix]);
      // Covering the mapped block, the range holds every IPv4 address.
      if (prefix <= 96 && MAPPED_BLOCK[0].match(network, prefix)) ipv4.push(EVERY_IPV4);
    }
    this.#ipv4 = ipv4;
    this.#ipv6 = ipv6;
  }

  /** True when the set holds no range, so it holds no address. */
  get isEmpty(): boolean {
    return this.cidrs.length === 0;
  }

  /** Whether `address` is in one of the ranges; false when it is not an IP address. */
  has(address: string): boolean {
    const ip = parseIp(address);
    return ip !== undefined && this.contains(ip);
  }

  /** Whether `ip` is in one of the ranges. */
  contains(ip: IpAddress): boolean {
    for (const range of ip instanceof ipaddr.IPv4 ? this.#ipv4 : this.#ipv6) {
      if (ip.match(range[0], range[1])) return true;
    }
    return false;
  }
}

const MAPPED_PREFIX = /^::ffff:/i;

/** `::ffff:0:0/96`, where IPv4-mapped addresses live. */
const MAPPED_BLOCK: [ipaddr.IPv6, number] = [ipaddr.IPv6.parse("::ffff:0:0"), 96];
const EVERY_IPV4: [ipaddr.IPv4, number] = [ipaddr.IPv4.parse("0.0.0.0"), 0];

function accept(network: IpAddress, prefix: number): CidrResult {
  return { ok: true, cidr: { network, prefix, text: `${network}/${prefix}` } };
}

function refuse(text: string, reason: string): CidrResult {
  return { ok: false, problem: `"${text}" is not a CIDR range or an IP address: ${reason}` };
}

const OCTET = "(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)";

/**
 * Four decimal numbers from 0 to 255 separated by dots, none with a leading zero: the only IPv4
 * accepted. It is what `ipaddr.IPv4.isValidFourPartDecimal` accepts, read in a third of the time
 * that it and `ipaddr.IPv4.parse` take (bench/results/2026-12-04-client-ip.md).
 */
const DOTTED_DECIMAL = new RegExp(`^${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}$`);

/** Reads IPv4 written as four decimal numbers, none with a leading zero. */
function parseIPv4(text: string): ipaddr.IPv4 | undefined {
  const numbers = DOTTED_DECIMAL.exec(text);
  return numbers === null ? undefined : new ipaddr.IPv4(numbers.slice(1).map(Number));
}

/**
 * IPv6 `address` with a dotted IPv4 tail (`::ffff:1.2.3.4`) rewritten as two hex groups, so that
 * the tail is read as strictly as IPv4 is, and `::1.2.3.4` stays the IPv4-compatible `::102:304`
 * (ipaddr.js would read it as mapped); undefined when the tail is not IPv4.
 */
function withHexTail(address: string): string | undefined {
  const dot = address.indexOf(".");
  if (dot < 0) return address;
  const start = address.lastIndexOf(":", dot) + 1;
  const ipv4 = parseIPv4(address.slice(start));
  if (ipv4 === undefined) return undefined;
  const [a = 0, b = 0, c = 0, d = 0] = ipv4.octets;
  return `${address.slice(0, start)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
}

/** Why `text`, which {@linkcode parseIp} refuses, is not an IP address. */
function whyNotIp(text: string): string {
  if (text.length === 0) return "it is empty";
  if (text.includes(":")) return whyNotIPv6(text);
  if (!text.includes(".")) return 'it is written neither as IPv4 (1.2.3.4) nor as IPv6 (with ":")';
  return whyNotIPv4(text) ?? FOUR_NUMBERS;
}

const FOUR_NUMBERS = "an IPv4 address has 4 numbers separated by dots";

/** Why `text` is not dotted IPv4, or undefined when it is. */
function whyNotIPv4(text: string): string | undefined {
  const parts = text.split(".");
  for (const [index, part] of parts.entries()) {
    if (part.length === 0) return FOUR_NUMBERS;
    if (!/^\d+$/.test(part) || Number(part) > 255) return `"${part}" is not a number from 0 to 255`;
    if (part.length > 1 && part.startsWith("0")) {
      return `"${part}" has a leading zero, which some programs read as octal`;
    }
    if (index >= 4) return FOUR_NUMBERS;
  }
  return parts.length === 4 ? undefined : FOUR_NUMBERS;
}

/** Why `text`, written with a colon and refused by {@linkcode parseIp}, is not IPv6. */
function whyNotIPv6(text: string): string {
  const percent = text.indexOf("%");
  if (percent === text.length - 1) return "the zone id after % is empty";
  const address = percent < 0 ? text : text.slice(0, percent);
  const dot = address.indexOf(".");
  const tail = dot < 0 ? address.length : address.lastIndexOf(":", dot) + 1;
  const head = address.slice(0, tail);
  if (/^:(?!:)/.test(address)) return `it starts with a single ":"`;
  const fault = /:::|[^\da-f:]|[\da-f]{5,}/i.exec(head)?.[0];
  if (fault !== undefined && fault.length > 4) return `"${fault}" has more than 4 hex digits`;
  if (fault !== undefined) return `"${fault.at(-1)}" is not a hex digit or ":"`;
  if (head.indexOf("::") !== head.lastIndexOf("::")) return `"::" appears more than once`;
  const ipv4Problem = dot < 0 ? undefined : whyNotIPv4(address.slice(tail));
  if (ipv4Problem !== undefined) return ipv4Problem;
  // The dotted IPv4 tail, read fine, stands for two groups.
  const hex = dot < 0 ? address : `${head}0:0`;
  if (/[^:]:$/.test(hex)) return `it ends with a single ":"`;
  const groups = hex.split(":").filter((group) => group.length > 0);
  if (groups.length > 8) return "it has more than 8 groups of hex digits";
  if (hex.includes("::")) return `"::" stands for no group at all`;
  return `it has ${groups.length} groups of hex digits, not 8 (write "::" for a run of zeros)`;
}

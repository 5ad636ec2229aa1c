/**
 * IP addresses and CIDR ranges: parsing with clear messages for config validation, canonical
 * formatting, and {@linkcode CidrSet}, a set of ranges built once and asked per request whether
 * it holds an address.
 *
 * An IPv4-mapped IPv6 address (`::ffff:10.1.2.3`) is the IPv4 address it maps, wherever it
 * appears: as an address, it is matched against IPv4 ranges; as a range (`::ffff:10.0.0.0/104`),
 * it is the IPv4 range `10.0.0.0/8`. Ranges live in one 128-bit space where IPv4 is the mapped
 * block `::ffff:0:0/96`, so an IPv6 range that covers that block, such as `::/0`, also holds the
 * IPv4 addresses it covers. A zone id (`fe80::1%eth0`) is accepted and ignored: it names a local
 * interface, not part of the address.
 * @module
 */

/** An IP address. IPv4-mapped IPv6 addresses are IPv4. */
export type IpAddress =
  | {
    readonly version: 4;
    /** The address as an unsigned 32-bit integer. */
    readonly value: number;
  }
  | {
    readonly version: 6;
    /** The address as four unsigned 32-bit integers, most significant first. */
    readonly words: readonly [number, number, number, number];
  };

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
  const read = readIp(text);
  return typeof read === "string" ? undefined : read;
}

/** Why `text` is not an IP address, as a sentence; undefined when it is one. */
export function ipProblem(text: string): string | undefined {
  const read = readIp(text);
  return typeof read === "string" ? `"${text}" is not an IP address: ${read}` : undefined;
}

/** The address written canonically (RFC 5952 for IPv6), e.g. `2001:db8::1` or `10.1.2.3`. */
export function formatIp(ip: IpAddress): string {
  return ip.version === 4 ? formatIPv4(ip.value) : formatIPv6(ip.words);
}

/**
 * `text` written canonically: lowercase, zeros compressed, IPv4-mapped addresses as IPv4, no
 * zone id. Undefined when `text` is not an IP address.
 */
export function normalizeIp(text: string): string | undefined {
  const ip = parseIp(text);
  return ip === undefined ? undefined : formatIp(ip);
}

/**
 * Reads a CIDR range (`10.0.0.0/8`, `fd00::/8`) or a bare address, which is a range of one
 * (`/32` or `/128`). A range with bits set past its prefix (`10.0.0.1/8`) is refused rather than
 * silently widened, since it is usually a typo.
 */
export function parseCidr(text: string): CidrResult {
  const slash = text.indexOf("/");
  const addressText = slash < 0 ? text : text.slice(0, slash);
  const read = readIp(addressText);
  if (typeof read === "string") return refuse(text, read);
  if (slash < 0) {
    const prefix = read.version === 4 ? 32 : 128;
    return { ok: true, cidr: { network: read, prefix, text: `${formatIp(read)}/${prefix}` } };
  }
  const prefixText = text.slice(slash + 1);
  let prefix = readPrefix(prefixText);
  if (prefix === undefined) {
    return refuse(text, `the prefix length "${prefixText}" is not a whole number`);
  }
  const bits = addressText.includes(":") ? 128 : 32;
  if (prefix > bits) {
    return refuse(
      text,
      `the prefix length ${prefix} is more than ${bits}, the bits of IPv${bits === 32 ? 4 : 6}`,
    );
  }
  let written = read;
  if (read.version === 4 && bits === 128) {
    // A mapped network with a prefix inside the IPv4 bits is an IPv4 range.
    if (prefix >= 96) prefix -= 96;
    else written = toIPv6(read);
  }
  const network = maskIp(written, prefix);
  if (!sameIp(network, written)) {
    return refuse(
      text,
      `the address has bits set past the /${prefixText} prefix; ` +
        `the range it falls in is ${formatIp(network)}/${prefix}`,
    );
  }
  return { ok: true, cidr: { network, prefix, text: `${formatIp(network)}/${prefix}` } };
}

/** Why `text` is not a CIDR range or an address, as a sentence; undefined when it is one. */
export function cidrProblem(text: string): string | undefined {
  const result = parseCidr(text);
  return result.ok ? undefined : result.problem;
}

/**
 * A set of CIDR ranges, built once and then asked, per request, whether it holds an address.
 * Overlapping and adjacent ranges are merged; a lookup is a binary search over the merged
 * ranges, with IPv4 as 32-bit integers and IPv6 as four 32-bit words.
 */
export class CidrSet {
  /** The ranges as given, parsed. */
  readonly cidrs: readonly Cidr[];
  readonly #ipv4Starts: Uint32Array;
  readonly #ipv4Ends: Uint32Array;
  /** Four words per range. */
  readonly #ipv6Starts: Uint32Array;
  readonly #ipv6Ends: Uint32Array;

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

    const ranges = mergeRanges(parsed.map(toRange));
    const ipv4: Range[] = [];
    for (const range of ranges) {
      const first = range.first > MAPPED_FIRST ? range.first : MAPPED_FIRST;
      const last = range.last < MAPPED_LAST ? range.last : MAPPED_LAST;
      if (first <= last) ipv4.push({ first: first - MAPPED_FIRST, last: last - MAPPED_FIRST });
    }
    this.#ipv4Starts = Uint32Array.from(ipv4, (range) => Number(range.first));
    this.#ipv4Ends = Uint32Array.from(ipv4, (range) => Number(range.last));
    this.#ipv6Starts = new Uint32Array(ranges.length * 4);
    this.#ipv6Ends = new Uint32Array(ranges.length * 4);
    ranges.forEach((range, index) => {
      writeWords(range.first, this.#ipv6Starts, index * 4);
      writeWords(range.last, this.#ipv6Ends, index * 4);
    });
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
    return ip.version === 4 ? this.#containsIPv4(ip.value) : this.#containsIPv6(ip.words);
  }

  #containsIPv4(value: number): boolean {
    const starts = this.#ipv4Starts;
    let low = 0;
    let high = starts.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (starts[middle]! <= value) low = middle + 1;
      else high = middle;
    }
    return low > 0 && value <= this.#ipv4Ends[low - 1]!;
  }

  #containsIPv6(words: readonly [number, number, number, number]): boolean {
    const starts = this.#ipv6Starts;
    let low = 0;
    let high = starts.length / 4;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (compareWords(words, starts, middle * 4) >= 0) low = middle + 1;
      else high = middle;
    }
    return low > 0 && compareWords(words, this.#ipv6Ends, (low - 1) * 4) <= 0;
  }
}

/** A range of the 128-bit space, both ends included. */
interface Range {
  readonly first: bigint;
  readonly last: bigint;
}

/** `::ffff:0.0.0.0` and `::ffff:255.255.255.255`, the IPv4 block of the 128-bit space. */
const MAPPED_FIRST = 0xffff_0000_0000n;
const MAPPED_LAST = 0xffff_ffff_ffffn;
const ALL_128 = (1n << 128n) - 1n;

function refuse(text: string, reason: string): CidrResult {
  return { ok: false, problem: `"${text}" is not a CIDR range or an IP address: ${reason}` };
}

function readPrefix(text: string): number | undefined {
  if (text.length === 0 || text.length > 3) return undefined;
  let value = 0;
  for (let index = 0; index < text.length; index++) {
    const digit = text.charCodeAt(index) - 48;
    if (digit < 0 || digit > 9) return undefined;
    value = value * 10 + digit;
  }
  return value;
}

function toIPv6(ip: IpAddress & { version: 4 }): IpAddress & { version: 6 } {
  return { version: 6, words: [0, 0, 0xffff, ip.value] };
}

function maskIp(ip: IpAddress, prefix: number): IpAddress {
  if (ip.version === 4) return { version: 4, value: maskWord(ip.value, prefix) };
  const [a, b, c, d] = ip.words;
  return {
    version: 6,
    words: [
      maskWord(a, prefix),
      maskWord(b, prefix - 32),
      maskWord(c, prefix - 64),
      maskWord(
        d,
        prefix - 96,
      ),
    ],
  };
}

/** Keeps the first `bits` bits of a 32-bit word (all of them past 32, none below 0). */
function maskWord(word: number, bits: number): number {
  if (bits >= 32) return word;
  if (bits <= 0) return 0;
  return (word & ~(0xffff_ffff >>> bits)) >>> 0;
}

function sameIp(a: IpAddress, b: IpAddress): boolean {
  if (a.version === 4) return b.version === 4 && a.value === b.value;
  if (b.version === 4) return false;
  return a.words.every((word, index) => word === b.words[index]);
}

function toBigInt(ip: IpAddress): bigint {
  if (ip.version === 4) return MAPPED_FIRST | BigInt(ip.value);
  const [a, b, c, d] = ip.words;
  return (BigInt(a) << 96n) | (BigInt(b) << 64n) | (BigInt(c) << 32n) | BigInt(d);
}

function toRange(cidr: Cidr): Range {
  const prefix = cidr.network.version === 4 ? cidr.prefix + 96 : cidr.prefix;
  const first = toBigInt(cidr.network);
  return { first, last: first | (ALL_128 >> BigInt(prefix)) };
}

function mergeRanges(ranges: readonly Range[]): Range[] {
  const sorted = [...ranges].sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
  const merged: Range[] = [];
  for (const range of sorted) {
    const last = merged.at(-1);
    if (last !== undefined && range.first <= last.last + 1n) {
      if (range.last > last.last) {
        merged[merged.length - 1] = { first: last.first, last: range.last };
      }
    } else {
      merged.push(range);
    }
  }
  return merged;
}

function writeWords(value: bigint, into: Uint32Array, offset: number): void {
  for (let index = 3; index >= 0; index--) {
    into[offset + index] = Number(value & 0xffff_ffffn);
    value >>= 32n;
  }
}

function compareWords(
  words: readonly [number, number, number, number],
  array: Uint32Array,
  offset: number,
): number {
  for (let index = 0; index < 4; index++) {
    const word = words[index]!;
    const other = array[offset + index]!;
    if (word !== other) return word < other ? -1 : 1;
  }
  return 0;
}

/** Reads an address, or answers why it is not one. */
function readIp(text: string): IpAddress | string {
  if (text.length === 0) return "it is empty";
  if (text.includes(":")) return readIPv6(text);
  if (!text.includes(".")) return 'it is written neither as IPv4 (1.2.3.4) nor as IPv6 (with ":")';
  const value = readIPv4(text);
  return typeof value === "string" ? value : { version: 4, value };
}

const FOUR_NUMBERS = "an IPv4 address has 4 numbers separated by dots";

/** Reads dotted IPv4 from `from` to the end of `text`, without slicing it unless it is bad. */
function readIPv4(text: string, from = 0): number | string {
  let value = 0;
  let parts = 0;
  let octet = 0;
  let start = from;
  for (let index = from; index <= text.length; index++) {
    const code = index < text.length ? text.charCodeAt(index) : DOT;
    if (code === DOT) {
      if (index === start) return FOUR_NUMBERS;
      if (index - start > 1 && text.charCodeAt(start) === ZERO) {
        return `"${
          text.slice(start, index)
        }" has a leading zero, which some programs read as octal`;
      }
      if (++parts > 4) return FOUR_NUMBERS;
      value = value * 256 + octet;
      octet = 0;
      start = index + 1;
      continue;
    }
    const digit = code - ZERO;
    octet = octet * 10 + digit;
    if (digit < 0 || digit > 9 || octet > 255) {
      const dot = text.indexOf(".", index);
      const part = text.slice(start, dot < 0 ? text.length : dot);
      return `"${part}" is not a number from 0 to 255`;
    }
  }
  return parts === 4 ? value : FOUR_NUMBERS;
}

function readIPv6(written: string): IpAddress | string {
  const percent = written.indexOf("%");
  if (percent === written.length - 1) return "the zone id after % is empty";
  const text = percent < 0 ? written : written.slice(0, percent);
  const length = text.length;
  const groups = [0, 0, 0, 0, 0, 0, 0, 0];
  let count = 0;
  /** Where the `::` stands among the groups, or -1. */
  let gap = -1;
  let index = 0;
  if (text.charCodeAt(0) === COLON) {
    if (text.charCodeAt(1) !== COLON) return `it starts with a single ":"`;
    gap = 0;
    index = 2;
  }
  while (index < length) {
    const start = index;
    let group = 0;
    while (index < length) {
      const digit = hexDigit(text.charCodeAt(index));
      if (digit < 0) break;
      group = group * 16 + digit;
      index++;
    }
    if (index < length && text.charCodeAt(index) === DOT) {
      const ipv4 = readIPv4(text, start);
      if (typeof ipv4 === "string") return ipv4;
      if (count > 6) return "it has more than 8 groups of hex digits";
      groups[count++] = Math.floor(ipv4 / 0x1_0000);
      groups[count++] = ipv4 % 0x1_0000;
      break;
    }
    if (index === start) {
      return index < length
        ? `"${text[index]}" is not a hex digit or ":"`
        : `it ends with a single ":"`;
    }
    if (index - start > 4) return `"${text.slice(start, index)}" has more than 4 hex digits`;
    if (count === 8) return "it has more than 8 groups of hex digits";
    groups[count++] = group;
    if (index === length) break;
    if (text.charCodeAt(index) !== COLON) return `"${text[index]}" is not a hex digit or ":"`;
    index++;
    if (text.charCodeAt(index) === COLON) {
      if (gap >= 0) return `"::" appears more than once`;
      gap = count;
      index++;
    } else if (index === length) {
      return `it ends with a single ":"`;
    }
  }
  if (gap < 0 && count !== 8) {
    return `it has ${count} groups of hex digits, not 8 (write "::" for a run of zeros)`;
  }
  if (gap >= 0) {
    if (count > 7) return `"::" stands for no group at all`;
    // Move the groups after "::" to the end; the ones it stands for are zero.
    const zeros = 8 - count;
    for (let from = count - 1; from >= gap; from--) groups[from + zeros] = groups[from]!;
    groups.fill(0, gap, gap + zeros);
  }
  const word = (at: number) => groups[at * 2]! * 0x1_0000 + groups[at * 2 + 1]!;
  const words = [word(0), word(1), word(2), word(3)] as const;
  if (words[0] === 0 && words[1] === 0 && words[2] === 0xffff) {
    return { version: 4, value: words[3] };
  }
  return { version: 6, words };
}

const DOT = 46;
const COLON = 58;
const ZERO = 48;

function hexDigit(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 97 && code <= 102) return code - 87;
  if (code >= 65 && code <= 70) return code - 55;
  return -1;
}

function formatIPv4(value: number): string {
  return `${value >>> 24}.${(value >>> 16) & 0xff}.${(value >>> 8) & 0xff}.${value & 0xff}`;
}

function formatIPv6(words: readonly [number, number, number, number]): string {
  const groups = words.flatMap((word) => [word >>> 16, word & 0xffff]);
  // RFC 5952: compress the longest run of two or more zero groups, the first if tied.
  let bestStart = -1;
  let bestLength = 1;
  for (let start = 0; start < 8;) {
    if (groups[start] !== 0) {
      start++;
      continue;
    }
    let end = start;
    while (end < 8 && groups[end] === 0) end++;
    if (end - start > bestLength) {
      bestStart = start;
      bestLength = end - start;
    }
    start = end;
  }
  const hex = (group: number) => group.toString(16);
  if (bestStart < 0) return groups.map(hex).join(":");
  const head = groups.slice(0, bestStart).map(hex).join(":");
  const tail = groups.slice(bestStart + bestLength).map(hex).join(":");
  return `${head}::${tail}`;
}

/**
 * Which IP address a request comes from. It is the address of the socket peer, unless that
 * peer is a trusted proxy: then the proxies' own account of where the request came from is
 * followed back, hop by hop, for as long as each hop is itself a trusted proxy.
 *
 * The account is the `Forwarded` header (RFC 7239) when the nearest proxy wrote one, that is
 * when its last element has a `for=` parameter; otherwise it is `X-Forwarded-For`. Both are
 * read from the right, the end that the proxies append to: everything left of the first
 * untrusted address may have been written by the client and is never looked at. An entry that
 * is not an address (`unknown`, an obfuscated `_name`, or garbage) ends the walk at the last
 * trusted address, since nothing can be said about who stands behind it.
 *
 * Trusted proxies must append to the header that is read: a proxy that only sets
 * `X-Forwarded-For` must also drop any `Forwarded` header that carries a client's `for=`.
 * @module
 */
import { type CidrSet, formatIp, type IpAddress, parseIp } from "./cidr.ts";

/**
 * The client IP address of a request, written canonically (`2001:db8::1`, and IPv4-mapped
 * addresses as IPv4).
 *
 * `peer` is the socket peer address; a port and brackets around IPv6 are tolerated. When it is
 * not an IP address (a Unix socket, say), it is returned as it is and no header is read. Headers
 * are read only when the peer is in `trusted`, so without trusted proxies they change nothing.
 * When every forwarded address is trusted, the leftmost one is the client.
 */
export function clientIpOf(peer: string, headers: Headers, trusted: CidrSet | undefined): string {
  const peerIp = addressOfNode(peer.trim());
  if (peerIp === undefined) return peer;
  if (trusted === undefined || trusted.isEmpty || !trusted.contains(peerIp)) {
    return formatIp(peerIp);
  }
  let client = peerIp;
  for (const node of forwardedNodesFromRight(headers)) {
    const ip = node === undefined ? undefined : addressOfNode(node);
    if (ip === undefined) break;
    client = ip;
    if (!trusted.contains(ip)) break;
  }
  return formatIp(client);
}

/**
 * The forwarded nodes of the request, nearest hop first: the `for=` values of `Forwarded` when
 * its last element has one, else the entries of `X-Forwarded-For`. An undefined node is a hop
 * that cannot be read; nothing left of it counts.
 */
function forwardedNodesFromRight(headers: Headers): readonly (string | undefined)[] {
  const forwarded = headers.get("forwarded");
  if (forwarded !== null) {
    const nodes = forwardedForFromRight(forwarded);
    if (nodes[0] !== undefined) return nodes;
  }
  const chain = headers.get("x-forwarded-for");
  if (chain === null) return [];
  const nodes: string[] = [];
  const entries = chain.split(",");
  for (let index = entries.length - 1; index >= 0; index--) {
    const entry = entries[index]!.trim();
    if (entry !== "") nodes.push(entry);
  }
  return nodes;
}

/**
 * The IP address of a node: an address with an optional port (`1.2.3.4:5678`), an IPv6 address
 * in brackets with an optional port (`[2001:db8::1]:443`), or a bare IPv6 address. A port may be
 * obfuscated (`_abc`) as RFC 7239 allows. Undefined for anything else.
 */
function addressOfNode(node: string): IpAddress | undefined {
  if (node.charCodeAt(0) === OPEN_BRACKET) {
    const close = node.indexOf("]");
    if (close < 0) return undefined;
    if (close + 1 < node.length && !isPortAfterColon(node, close + 1)) return undefined;
    return parseIp(node.slice(1, close));
  }
  const colon = node.indexOf(":");
  // Two colons or more make a bare IPv6 address, which cannot carry a port.
  if (colon < 0 || node.indexOf(":", colon + 1) >= 0) return parseIp(node);
  if (!isPortAfterColon(node, colon)) return undefined;
  return parseIp(node.slice(0, colon));
}

/** Whether `text` from `colon` on is `:` and a port: 0-65535, or `_` and an obfuscated name. */
function isPortAfterColon(text: string, colon: number): boolean {
  if (text.charCodeAt(colon) !== COLON) return false;
  const start = colon + 1;
  const length = text.length - start;
  if (text.charCodeAt(start) === UNDERSCORE) {
    if (length < 2) return false;
    for (let index = start + 1; index < text.length; index++) {
      if (!isObfuscatedChar(text.charCodeAt(index))) return false;
    }
    return true;
  }
  if (length < 1 || length > 5) return false;
  let port = 0;
  for (let index = start; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (!isDigit(code)) return false;
    port = port * 10 + code - 48;
  }
  return port <= 65_535;
}

/**
 * The `for=` values of a `Forwarded` header, rightmost element first. The header is read from
 * the right, so that a malformed part written by the client cannot hide the well-formed elements
 * the proxies appended after it. Reading stops at an element that has no `for=` or cannot be
 * read, which is given as undefined.
 */
function forwardedForFromRight(header: string): (string | undefined)[] {
  const nodes: (string | undefined)[] = [];
  let end = header.length;
  for (;;) {
    end = skipSpacesBack(header, end);
    if (end === 0) return nodes;
    // An empty list element, as `a, , b` or a trailing comma.
    if (header.charCodeAt(end - 1) === COMMA) {
      end--;
      continue;
    }
    const element = readElementBack(header, end);
    nodes.push(element?.forValue);
    if (element?.forValue === undefined) return nodes;
    end = element.start;
  }
}

/** One element of a `Forwarded` header: where it starts, and its `for=` value if it has one. */
interface ForwardedElement {
  /** The index of the comma before the element, or 0. */
  readonly start: number;
  readonly forValue: string | undefined;
}

/** Reads the element of `header` that ends at `end`, backwards; undefined when malformed. */
function readElementBack(header: string, end: number): ForwardedElement | undefined {
  let position = end;
  let forValue: string | undefined;
  for (;;) {
    let value: string;
    if (header.charCodeAt(position - 1) === QUOTE) {
      const open = openingQuote(header, position - 1);
      if (open < 0) return undefined;
      value = unescapeQuoted(header.slice(open + 1, position - 1));
      position = open;
    } else {
      const start = scanBack(header, position, isValueChar);
      if (start === position) return undefined;
      value = header.slice(start, position);
      position = start;
    }
    if (header.charCodeAt(position - 1) !== EQUALS) return undefined;
    position--;
    const nameStart = scanBack(header, position, isTokenChar);
    if (nameStart === position) return undefined;
    if (header.slice(nameStart, position).toLowerCase() === "for") {
      // RFC 7239 allows each parameter once per element.
      if (forValue !== undefined) return undefined;
      forValue = value;
    }
    position = skipSpacesBack(header, nameStart);
    if (position === 0) return { start: 0, forValue };
    const separator = header.charCodeAt(position - 1);
    if (separator === COMMA) return { start: position - 1, forValue };
    if (separator !== SEMICOLON) return undefined;
    position = skipSpacesBack(header, position - 1);
  }
}

/**
 * The index of the quote that opens the quoted string closed by the quote at `close`, or -1
 * when there is none or the closing quote is itself escaped.
 */
function openingQuote(header: string, close: number): number {
  if (isEscaped(header, close)) return -1;
  for (let index = close - 1; index >= 0; index--) {
    if (header.charCodeAt(index) === QUOTE && !isEscaped(header, index)) return index;
  }
  return -1;
}

/** The content of a quoted string, its backslash escapes resolved. */
function unescapeQuoted(content: string): string {
  return content.includes("\\") ? content.replace(/\\(.)/gs, "$1") : content;
}

/** Whether the character at `index` follows an odd number of backslashes. */
function isEscaped(text: string, index: number): boolean {
  let backslashes = 0;
  while (index - backslashes - 1 >= 0 && text.charCodeAt(index - backslashes - 1) === BACKSLASH) {
    backslashes++;
  }
  return backslashes % 2 === 1;
}

function scanBack(text: string, end: number, accepts: (code: number) => boolean): number {
  let start = end;
  while (start > 0 && accepts(text.charCodeAt(start - 1))) start--;
  return start;
}

function skipSpacesBack(text: string, end: number): number {
  return scanBack(text, end, (code) => code === SPACE || code === TAB);
}

const TAB = 9;
const HYPHEN = 45;
const DOT = 46;
const SPACE = 32;
const QUOTE = 34;
const COMMA = 44;
const COLON = 58;
const SEMICOLON = 59;
const EQUALS = 61;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;
const BACKSLASH = 92;
const UNDERSCORE = 95;

/** The punctuation RFC 9110 allows in a token, besides letters and digits. */
const TOKEN_PUNCTUATION = new Set(Array.from("!#$%&'*+-.^_`|~", (char) => char.charCodeAt(0)));

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

function isLetter(code: number): boolean {
  return (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
}

function isTokenChar(code: number): boolean {
  return isLetter(code) || isDigit(code) || TOKEN_PUNCTUATION.has(code);
}

/** A token character, or one of `:[]`, so that an unquoted IPv6 node is read too. */
function isValueChar(code: number): boolean {
  return isTokenChar(code) || code === COLON || code === OPEN_BRACKET || code === CLOSE_BRACKET;
}

/** The characters of an obfuscated node or port, after its `_` (RFC 7239 §6.3). */
function isObfuscatedChar(code: number): boolean {
  return isLetter(code) || isDigit(code) || code === DOT || code === UNDERSCORE || code === HYPHEN;
}

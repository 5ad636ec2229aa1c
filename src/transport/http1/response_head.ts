/**
 * Reads the head of an HTTP/1.1 response (RFC 9112): the status line, the header fields, and
 * from them how the body is framed and whether the connection can carry another request.
 * @module
 */
import { ProtocolError } from "../errors.ts";
import { hasControl, TOKEN } from "./syntax.ts";

/** How the body after a head is delimited (RFC 9112 §6.3). */
export type Framing =
  | { readonly kind: "none" }
  | { readonly kind: "length"; readonly length: number }
  | { readonly kind: "chunked" }
  | { readonly kind: "close" };

/** A parsed response head. */
export interface ResponseHead {
  readonly status: number;
  readonly statusText: string;
  /** Every field as sent, names in lower case; framing and connection fields included. */
  readonly headers: [string, string][];
  readonly framing: Framing;
  /** The connection may carry another request once this body has been read. */
  readonly keepAlive: boolean;
  /** How long the backend keeps the connection open unused, in ms, if its `Keep-Alive` says. */
  readonly keepAliveTimeout: number | undefined;
}

const STATUS_LINE = /^HTTP\/1\.([01]) (\d{3})(?: (.*))?$/;
/** The `timeout` parameter of a `Keep-Alive` header, in seconds. */
const KEEP_ALIVE_TIMEOUT = /(?:^|[,;\s])timeout\s*=\s*"?(\d{1,9})/i;
const DIGITS = /^\d{1,15}$/;
/** A length, or the same length listed more than once (RFC 9112 §6.3, item 5). */
const LENGTH = /^(\d{1,15})(?:[ \t]*,[ \t]*\1)*$/;

/**
 * Parses `text`, a head without its final empty line, of the answer to a request made with
 * `method`; lines end with CRLF or a bare LF. Throws a {@linkcode ProtocolError} for a head
 * that breaks the protocol, or holds what cannot be passed on (a control character in a value).
 */
export function parseResponseHead(text: string, method: string): ResponseHead {
  const lines = text.split("\n");
  const statusLine = STATUS_LINE.exec(withoutCr(lines[0]!));
  if (statusLine === null) throw new ProtocolError("no status line");
  if (statusLine[3] !== undefined && hasControl(statusLine[3])) {
    throw new ProtocolError("a control character in the reason phrase");
  }
  const minor = statusLine[1];
  const status = Number(statusLine[2]);
  if (status < 100 || status > 599) throw new ProtocolError(`status ${status}`);
  const headers: [string, string][] = [];
  let length: string | undefined;
  let transferEncoding: string | undefined;
  let connection = "";
  let keepAliveTimeout: number | undefined;
  for (let index = 1; index < lines.length; index++) {
    const line = withoutCr(lines[index]!);
    const colon = line.indexOf(":");
    if (colon <= 0) throw new ProtocolError("a header line without a name");
    const name = line.slice(0, colon).toLowerCase();
    // Folded lines start with white space, which no token holds.
    if (!TOKEN.test(name)) throw new ProtocolError(`a bad header name ${JSON.stringify(name)}`);
    const value = line.slice(colon + 1).trim();
    if (hasControl(value)) throw new ProtocolError(`a control character in the ${name} header`);
    headers.push([name, value]);
    if (name === "content-length") {
      if (length !== undefined && length !== value) {
        throw new ProtocolError("two different Content-Length values");
      }
      length = value;
    } else if (name === "transfer-encoding") {
      transferEncoding = transferEncoding === undefined ? value : `${transferEncoding}, ${value}`;
    } else if (name === "connection") {
      connection += `,${value.toLowerCase()}`;
    } else if (name === "keep-alive") {
      const timeout = KEEP_ALIVE_TIMEOUT.exec(value);
      if (timeout) keepAliveTimeout = Number(timeout[1]) * 1000;
    }
  }
  const closes = connection.includes("close") ||
    (minor === "0" && !connection.includes("keep-alive"));
  const framing = framingOf(status, method, transferEncoding, length);
  return {
    status,
    statusText: statusLine[3] ?? "",
    headers,
    framing,
    // A body read to the connection's end, or framed both ways, leaves nothing to reuse.
    keepAlive: !closes && framing.kind !== "close" &&
      !(transferEncoding !== undefined && length !== undefined),
    keepAliveTimeout,
  };
}

function framingOf(
  status: number,
  method: string,
  transferEncoding: string | undefined,
  length: string | undefined,
): Framing {
  if (
    method === "HEAD" || status < 200 || status === 204 || status === 205 ||
    status === 304 || (method === "CONNECT" && status < 300)
  ) {
    return { kind: "none" };
  }
  if (transferEncoding !== undefined) {
    const codings = transferEncoding.toLowerCase().split(",");
    return codings[codings.length - 1]!.trim() === "chunked"
      ? { kind: "chunked" }
      : { kind: "close" };
  }
  if (length !== undefined) {
    // One length, nearly always; the same length listed again is read as one.
    const valid = DIGITS.test(length) ? length : LENGTH.exec(length)?.[1];
    if (valid === undefined) throw new ProtocolError(`a bad Content-Length ${length}`);
    const bytes = Number(valid);
    return bytes === 0 ? { kind: "none" } : { kind: "length", length: bytes };
  }
  return { kind: "close" };
}

/** `line` without the CR of its CRLF. */
function withoutCr(line: string): string {
  return line.endsWith("\r") ? line.slice(0, -1) : line;
}

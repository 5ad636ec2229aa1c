/**
 * The head of a request as it goes on the wire: the request line, `Host`, the headers and the
 * body's length, in one buffer with the body when the body is small.
 * @module
 */
import { TOKEN } from "./syntax.ts";

/** Bytes that would end a header line early, or a header name: never sent. */
const UNSAFE_VALUE = /[\r\n\0]/;
/** Headers the client sets from the request itself. */
const FRAMING = new Set([
  "host",
  "content-length",
  "transfer-encoding",
  "connection",
  "proxy-authorization",
]);
/** Methods whose requests have no body unless they send one. */
const BODILESS = new Set(["GET", "HEAD"]);
/** Bodies up to this size go out in one write with their head. */
const JOINED_BODY_LIMIT = 64 * 1024;

const encoder = new TextEncoder();

/** What a request head says. */
export interface RequestHead {
  readonly method: string;
  /** The origin-form target: path and query. */
  readonly target: string;
  /** The `Host` header: host, and port unless it is the scheme's default. */
  readonly host: string;
  /** Header names in lower case; `Host` and framing headers here are ignored. */
  readonly headers: ReadonlyMap<string, string>;
  /** The `Proxy-Authorization` of a request a proxy forwards. */
  readonly proxyAuthorization?: string | undefined;
}

/**
 * The request's bytes, in the order they are written: head and body joined when the body is
 * small, else the head and then the body. Throws a `TypeError` for a header that cannot be
 * sent as it is, as `fetch` does.
 */
export function requestBytes(head: RequestHead, body: Uint8Array): Uint8Array[] {
  let text = `${head.method} ${head.target} HTTP/1.1\r\nhost: ${head.host}\r\n`;
  if (head.proxyAuthorization) text += `proxy-authorization: ${head.proxyAuthorization}\r\n`;
  head.headers.forEach((value, name) => {
    if (FRAMING.has(name)) return;
    if (!TOKEN.test(name) || UNSAFE_VALUE.test(value)) {
      throw new TypeError(`Header ${JSON.stringify(name)} cannot be sent as it is`);
    }
    text += `${name}: ${value}\r\n`;
  });
  // A GET or HEAD without a body says nothing of one, as RFC 9110 §8.6 asks.
  if (body.byteLength > 0 || !BODILESS.has(head.method)) {
    text += `content-length: ${body.byteLength}\r\n`;
  }
  text += "\r\n";
  // One byte per character: header values are byte strings.
  const headLength = text.length;
  if (body.byteLength > JOINED_BODY_LIMIT) {
    const bytes = new Uint8Array(headLength);
    writeHead(text, bytes);
    return [bytes, body];
  }
  const joined = new Uint8Array(headLength + body.byteLength);
  writeHead(text, joined);
  joined.set(body, headLength);
  return [joined];
}

/** Writes `text` into the start of `into`, one byte per character. */
function writeHead(text: string, into: Uint8Array): void {
  // ASCII, nearly always: UTF-8 then takes one byte per character too.
  const { read, written } = encoder.encodeInto(text, into.subarray(0, text.length));
  if (read === text.length && written === text.length) return;
  // A character above 0x7f stands for one byte, as `fetch` sends it, not for its UTF-8.
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code > 0xff) throw new TypeError("A header value holds a character that is not a byte");
    into[index] = code;
  }
}

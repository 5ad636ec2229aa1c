/**
 * Finds the form fields routing needs in a multipart upload (RFC 7578) where it lies in memory:
 * the parts' headers are read and the parts' contents skipped over, so a file of any size is
 * neither decoded nor copied. Only the values of the fields asked for become strings.
 * @module
 */

/** Where one field's value lies in the body, and the value. */
export interface FieldValue {
  readonly value: string;
  /** The value is `bytes[start, end)`. */
  readonly start: number;
  readonly end: number;
}

/** Why a body is not a multipart upload that can be read. */
export class MultipartError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = "MultipartError";
  }
}

/** A part's header block longer than this is not one a client sends. */
const MAX_HEADER_BLOCK = 16 * 1024;

const CR = 0x0d;
const LF = 0x0a;
const DASH = 0x2d;
const encoder = new TextEncoder();
const utf8 = new TextDecoder("utf-8", { fatal: true });
const latin1 = new TextDecoder("latin1");

/** The `boundary` parameter of a multipart content type, quoted or not. */
export function boundaryOf(contentType: string): string | undefined {
  const match = /;\s*boundary\s*=\s*(?:"([^"]+)"|([^\s;"]+))/i.exec(contentType);
  return match === null ? undefined : match[1] ?? match[2];
}

/**
 * The first value of each field of `names` in the multipart body `bytes` framed by
 * `boundary`. Throws {@linkcode MultipartError} for a body whose parts cannot be read, or that
 * does not end with its closing boundary.
 */
export function multipartValues(
  bytes: Uint8Array,
  boundary: string,
  names: readonly string[],
): Map<string, FieldValue> {
  const found = new Map<string, FieldValue>();
  // Every delimiter after the first starts on a new line: CR LF "--" boundary.
  const delimiter = encoder.encode(`\r\n--${boundary}`);
  const findDelimiter = finder(delimiter);
  // The first may open the body, or follow a preamble.
  let at = startsWith(bytes, delimiter, 0, 2) ? 0 : findDelimiter(bytes, 0) + 2;
  if (at === 1) throw new MultipartError("the boundary its content type names never appears");
  for (;;) {
    // `at` is where "--" boundary begins.
    let next = at + delimiter.byteLength - 2;
    if (bytes[next] === DASH && bytes[next + 1] === DASH) return found;
    const lineEnd = lineEndAfterPadding(bytes, next);
    if (lineEnd < 0) throw new MultipartError("it does not end with its closing boundary");
    const headersStart = lineEnd + 1;
    const headersEnd = headerBlockEnd(bytes, headersStart);
    const contentStart = headersEnd + 4;
    next = findDelimiter(bytes, contentStart);
    if (next < 0) throw new MultipartError("it does not end with its closing boundary");
    const name = partName(latin1.decode(bytes.subarray(headersStart, headersEnd)));
    if (name !== undefined && names.includes(name) && !found.has(name)) {
      let value: string;
      try {
        value = utf8.decode(bytes.subarray(contentStart, next));
      } catch {
        throw new MultipartError(`its "${name}" field is not valid UTF-8`);
      }
      found.set(name, { value, start: contentStart, end: next });
    }
    at = next + 2;
  }
}

/**
 * Where the header block that starts at `start` ends: the CR of the CR LF CR LF that closes it.
 * A part with no headers at all starts with CR LF, which ends its block at once.
 */
function headerBlockEnd(bytes: Uint8Array, start: number): number {
  if (bytes[start] === CR && bytes[start + 1] === LF) return start - 2;
  const limit = Math.min(bytes.byteLength, start + MAX_HEADER_BLOCK);
  const end = indexOf(bytes.subarray(0, limit), BLANK_LINE, start);
  if (end < 0) {
    throw new MultipartError(
      limit === bytes.byteLength
        ? "it does not end with its closing boundary"
        : "a part's headers do not end",
    );
  }
  return end;
}

const BLANK_LINE = encoder.encode("\r\n\r\n");

/**
 * The LF that ends the delimiter line from `from`, past the spaces and tabs RFC 2046 lets
 * follow a boundary; -1 when the line is cut off or holds anything else.
 */
function lineEndAfterPadding(bytes: Uint8Array, from: number): number {
  let at = from;
  while (bytes[at] === 0x20 || bytes[at] === 0x09) at++;
  return bytes[at] === CR && bytes[at + 1] === LF ? at + 1 : -1;
}

/** The `name` of a part, from its `Content-Disposition: form-data` header. */
function partName(headers: string): string | undefined {
  for (const line of headers.split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon < 0 || line.slice(0, colon).trim().toLowerCase() !== "content-disposition") continue;
    return parameters(line.slice(colon + 1)).get("name");
  }
  return undefined;
}

/**
 * The parameters of a header value such as `form-data; name="file"; filename="a \"b\".wav"`,
 * names in lower case; quoted values unescaped, so a quote or `;` within one ends nothing.
 */
function parameters(value: string): Map<string, string> {
  const found = new Map<string, string>();
  const parameter = /;\s*([^\s=;]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))\s*/y;
  // Past the disposition type.
  parameter.lastIndex = value.search(/;|$/);
  for (let match = parameter.exec(value); match !== null; match = parameter.exec(value)) {
    const name = match[1]!.toLowerCase();
    const quoted = match[2];
    const text = quoted === undefined ? match[3]!.trim() : quoted.replace(/\\(.)/g, "$1");
    if (!found.has(name)) found.set(name, text);
  }
  return found;
}

/** Whether `needle` lies in `bytes` at `at`, comparing from the needle's `from`th byte. */
function startsWith(bytes: Uint8Array, needle: Uint8Array, at: number, from: number): boolean {
  if (at + needle.byteLength - from > bytes.byteLength) return false;
  for (let index = from; index < needle.byteLength; index++) {
    if (bytes[at + index - from] !== needle[index]) return false;
  }
  return true;
}

/** Where `needle` first occurs in `bytes` at or after `from`, or -1. */
function indexOf(bytes: Uint8Array, needle: Uint8Array, from: number): number {
  const first = needle[0]!;
  const last = bytes.byteLength - needle.byteLength;
  for (
    let at = bytes.indexOf(first, from);
    at >= 0 && at <= last;
    at = bytes.indexOf(first, at + 1)
  ) {
    if (startsWith(bytes, needle, at, 0)) return at;
  }
  return -1;
}

/**
 * A search for `needle` that skips ahead by up to its length at each byte it looks at
 * (Boyer-Moore-Horspool): a file is passed over in a few ms per 25 MiB, where looking at each
 * of its line ends would hold the event loop several times as long.
 */
function finder(needle: Uint8Array): (bytes: Uint8Array, from: number) => number {
  const length = needle.byteLength;
  const shifts = new Uint8Array(256).fill(Math.min(length, 255));
  for (let index = Math.max(0, length - 256); index < length - 1; index++) {
    shifts[needle[index]!] = length - 1 - index;
  }
  const lastByte = needle[length - 1]!;
  return (bytes, from) => {
    const end = bytes.byteLength - length;
    for (let at = from; at <= end;) {
      const byte = bytes[at + length - 1]!;
      if (byte === lastByte && startsWith(bytes, needle, at, 0)) return at;
      at += shifts[byte]!;
    }
    return -1;
  };
}

/**
 * Reads the `Proxy-Status` header (RFC 9209), by which a proxy says that an answer is its own,
 * given because it could not reach the origin, and why.
 * @module
 */

/**
 * The `error` type (`connection_refused`, `connection_timeout`, …) that the proxy nearest to
 * the gateway gives in `value`, a `Proxy-Status` header; undefined when it names none.
 */
export function proxyStatusError(value: string | null | undefined): string | undefined {
  if (!value) return undefined;
  // Each proxy on the way appends its member: the last one is the nearest proxy's.
  const member = outsideQuotes(value, ",").at(-1)!;
  for (const parameter of outsideQuotes(member, ";").slice(1)) {
    const [key, type] = parameter.split("=").map((part) => part.trim());
    if (key?.toLowerCase() === "error" && type && /^[a-z][a-z0-9_.*-]*$/.test(type)) return type;
  }
  return undefined;
}

/** `text` split at each `separator` that is not inside a quoted string. */
function outsideQuotes(text: string, separator: string): string[] {
  const parts: string[] = [];
  let quoted = false;
  let start = 0;
  for (let index = 0; index < text.length; index++) {
    const char = text[index];
    if (char === "\\" && quoted) index++;
    else if (char === '"') quoted = !quoted;
    else if (char === separator && !quoted) {
      parts.push(text.slice(start, index));
      start = index + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

/**
 * A field added to a JSON request body without writing the body anew: spliced in after the
 * object's opening brace, so the rest of the body goes on byte for byte.
 * @module
 */

const encoder = new TextEncoder();
const OPENING_BRACE = 0x7b;
const CLOSING_BRACE = 0x7d;

/**
 * `bytes` (a JSON object) with `"name":value` first, `value` given as JSON text; undefined when
 * `bytes` holds no opening brace.
 */
export function withLeadingField(
  bytes: Uint8Array,
  name: string,
  value: string,
): Uint8Array<ArrayBuffer> | undefined {
  // A JSON object's first byte that is not white space (or a byte order mark) is its brace.
  const brace = bytes.indexOf(OPENING_BRACE);
  if (brace < 0) return undefined;
  const separator = isEmptyObject(bytes, brace) ? "" : ",";
  const field = encoder.encode(`${JSON.stringify(name)}:${value}${separator}`);
  const spliced = new Uint8Array(bytes.byteLength + field.byteLength);
  spliced.set(bytes.subarray(0, brace + 1));
  spliced.set(field, brace + 1);
  spliced.set(bytes.subarray(brace + 1), brace + 1 + field.byteLength);
  return spliced;
}

/** Whether only white space follows the brace at `brace` before the closing one. */
function isEmptyObject(bytes: Uint8Array, brace: number): boolean {
  for (let index = brace + 1; index < bytes.byteLength; index++) {
    const byte = bytes[index]!;
    if (byte === CLOSING_BRACE) return true;
    if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d) return false;
  }
  return false;
}

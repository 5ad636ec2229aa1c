import assert from "node:assert/strict";
import { ChunkedDecoder } from "./chunked.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Decodes `wire` fed in pieces of `size` bytes, as a connection's buffer would hold them. */
function decodeInPieces(wire: string, size: number): { data: string; done: boolean } {
  const bytes = encoder.encode(wire);
  const chunked = new ChunkedDecoder();
  const buffer = new Uint8Array(bytes.length);
  let start = 0;
  let end = 0;
  let data = "";
  for (let fed = 0; fed < bytes.length && !chunked.done; fed += size) {
    const piece = bytes.subarray(fed, fed + size);
    buffer.set(piece, end);
    end += piece.length;
    start = chunked.decode(buffer, start, end, (from, to) => {
      data += decoder.decode(buffer.subarray(from, to));
    });
  }
  return { data, done: chunked.done };
}

const WIRE = '5\r\nhello\r\n1;ext="a b"\r\n \r\nA \t;x\r\n0123456789\r\n0\r\nx-t: 1\r\n\r\n';

Deno.test("a chunked body decodes the same in pieces of any size", () => {
  for (const size of [1, 2, 3, 7, 64]) {
    assert.deepEqual(
      decodeInPieces(WIRE, size),
      { data: "hello 0123456789", done: true },
      `${size}`,
    );
  }
});

Deno.test("the decoder stops at the end of the body", () => {
  const bytes = encoder.encode("1\r\na\r\n0\r\n\r\nHTTP/1.1 200 OK");
  const chunked = new ChunkedDecoder();
  const stop = chunked.decode(bytes, 0, bytes.length, () => {});
  assert.equal(chunked.done, true);
  assert.equal(decoder.decode(bytes.subarray(stop)), "HTTP/1.1 200 OK");
});

Deno.test("bytes that are not a chunked body are refused", () => {
  for (
    const [wire, message] of [
      ["x\r\n", /bad chunk size/],
      ["-1\r\n", /bad chunk size/],
      ["12345678901234\r\n", /bad chunk size/],
      ["2\r\nabc\r\n", /chunk longer than its size/],
      [`1${"0".repeat(9000)}`, /chunk line too long/],
    ] as const
  ) {
    const bytes = encoder.encode(wire);
    assert.throws(() => new ChunkedDecoder().decode(bytes, 0, bytes.length, () => {}), message);
  }
});

Deno.test("chunk lines and chunk ends may end in a bare LF", () => {
  for (const size of [1, 3, 64]) {
    assert.deepEqual(decodeInPieces("5\nhello\n3\r\nabc\n0\n\n", size), {
      data: "helloabc",
      done: true,
    });
  }
});

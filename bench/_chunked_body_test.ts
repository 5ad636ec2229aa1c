import { deepEqual } from "node:assert/strict";
import { ChunkedBody } from "./_chunked_body.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** `events` framed one HTTP chunk each, with a chunk extension on one, then the last chunk. */
function framed(events: readonly string[]): Uint8Array {
  const chunks = events.map((event, index) =>
    `${encoder.encode(event).length.toString(16)}${index === 1 ? ";ext=1" : ""}\r\n${event}\r\n`
  );
  return encoder.encode(`${chunks.join("")}0\r\n\r\n`);
}

function decodeInPieces(message: Uint8Array, cuts: readonly number[]): [string, boolean] {
  const body = new ChunkedBody();
  let text = "";
  let from = 0;
  for (const cut of [...cuts, message.length]) {
    text += decoder.decode(body.decode(message.subarray(from, cut)), { stream: true });
    from = cut;
  }
  return [text, body.ended];
}

Deno.test("a chunked body decodes the same wherever the reads split it", () => {
  const events = ["data: one\n\n", 'data: {"a":2}\n', "\ndata: [DONE]\n\n"];
  const message = framed(events);
  for (let first = 0; first <= message.length; first++) {
    for (let second = first; second <= message.length; second += 7) {
      deepEqual(decodeInPieces(message, [first, second]), [events.join(""), true]);
    }
  }
});

Deno.test("a chunked body read a byte at a time decodes whole", () => {
  const events = ["data: é\n\n", "x".repeat(300)];
  const message = framed(events);
  const cuts = Array.from({ length: message.length }, (_, index) => index);
  deepEqual(decodeInPieces(message, cuts), [events.join(""), true]);
});

Deno.test("a chunked body is not ended before its last chunk", () => {
  const message = framed(["data: one\n\n"]);
  deepEqual(decodeInPieces(message.subarray(0, message.length - 5), []), [
    "data: one\n\n",
    false,
  ]);
});

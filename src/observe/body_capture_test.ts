import assert from "node:assert/strict";
import { BodyCapture, DEFAULT_MASKS, mask } from "./body_capture.ts";

const encoder = new TextEncoder();
const defaults = DEFAULT_MASKS.map((pattern) => new RegExp(pattern, "g"));

Deno.test("a capture keeps the first bytes across chunks and says how many it left out", () => {
  const capture = new BodyCapture({ limit: 8, masks: [] });
  capture.add(encoder.encode("abcde"));
  capture.add(encoder.encode("fghij"));
  capture.add(encoder.encode("klm"));
  assert.equal(capture.text(), "abcdefgh […5 more bytes]");
});

Deno.test("the kept bytes are copies: a buffer reused after the chunk changes nothing", () => {
  const capture = new BodyCapture({ limit: 16, masks: [] });
  const buffer = encoder.encode("first");
  capture.add(buffer);
  buffer.set(encoder.encode("XXXXX"));
  assert.equal(capture.text(), "first");
});

Deno.test("the default masks hide emails, bearer tokens, keys and card numbers, not timestamps", () => {
  assert.equal(
    mask(
      "mail bob.smith+x@corp.example.org, Authorization: Bearer eyJhbGciOi.x-y, " +
        'sk-proj-ABCDEF123456, 5500-0000-0000-0004, 378282246310005, "created":1796456295123',
      defaults,
    ),
    "mail [masked], Authorization: [masked], [masked], [masked], [masked], " +
      '"created":1796456295123',
  );
});

import { equal, throws } from "node:assert/strict";
import { splitCost } from "./_stream_cpu.ts";

Deno.test("a cost per request splits into a part per chunk and a fixed part", () => {
  // 300 µs fixed and 25 µs a chunk: 425 µs at 5 chunks, 1,425 µs at 45.
  const { perChunk, fixed } = splitCost([5, 45], [425, 1_425]);
  equal(perChunk, 25);
  equal(fixed, 300);
});

Deno.test("a split needs the long streams longer than the short ones", () => {
  throws(() => splitCost([5, 5], [100, 100]), RangeError);
});

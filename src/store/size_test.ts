import assert from "node:assert/strict";
import { MAX_VALUE_BYTES, storedSize, textChunks } from "./size.ts";

Deno.test("stored size is a byte a character in Latin-1, two a unit beyond", () => {
  assert.ok(storedSize("模".repeat(1_000)) >= 2_000);
  assert.ok(storedSize("é".repeat(1_000)) < 1_100);
  assert.ok(storedSize("m".repeat(1_000)) < 1_100);
  // A part cut from a wider string stays two bytes a unit, as KV would store it.
  assert.ok(storedSize(`${"m".repeat(1_000)}模`.slice(0, 1_000)) >= 2_000);
});

Deno.test("chunks join back to the text and each fits one KV value", async () => {
  using kv = await Deno.openKv(":memory:");
  const texts = [
    "",
    "a".repeat(200_000),
    `${"a".repeat(49 * 1024)}模型${"b".repeat(30_000)}`,
    "模".repeat(100_000),
    "😀".repeat(40_000),
    "a😀".repeat(30_000),
    `${"é".repeat(70_000)}${"x".repeat(10)}中`,
  ];
  for (const text of texts) {
    const chunks = textChunks(text, 60_000);
    assert.equal(chunks.join(""), text);
    for (const [i, chunk] of chunks.entries()) {
      assert.ok(storedSize(chunk) <= 60_016, `chunk of ${storedSize(chunk)} bytes`);
      assert.ok(storedSize(chunk) < MAX_VALUE_BYTES);
      assert.ok(!/^[\udc00-\udfff]/.test(chunk), "no chunk starts with half a pair");
      await kv.set(["chunk", i], chunk);
    }
  }
});

Deno.test("chunks are at least half full but the last", () => {
  const text = `${"a".repeat(100)}${"模".repeat(100)}${"a".repeat(300)}`;
  const chunks = textChunks(text, 100);
  assert.equal(chunks.join(""), text);
  for (const chunk of chunks.slice(0, -1)) assert.ok(chunk.length >= 50, chunk);
  for (const chunk of chunks) assert.ok(storedSize(chunk) <= 116, chunk);
  assert.deepEqual(textChunks("a".repeat(250), 100).map((chunk) => chunk.length), [100, 100, 50]);
});

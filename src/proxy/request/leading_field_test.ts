import assert from "node:assert/strict";
import { withLeadingField } from "./leading_field.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

Deno.test("a leading field goes after the opening brace, the rest byte for byte", () => {
  const spliced = withLeadingField(encoder.encode(' {"model": "m" }'), "priority", "-1");
  assert.equal(decoder.decode(spliced), ' {"priority":-1,"model": "m" }');
  const empty = withLeadingField(encoder.encode("{ }"), "a", "true");
  assert.equal(decoder.decode(empty), '{"a":true }');
  assert.equal(withLeadingField(encoder.encode("[1]"), "a", "1"), undefined);
});

import assert from "node:assert/strict";
import { UsageEventFilter } from "./usage_event_filter.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

const TOKEN = 'data: {"choices":[{"delta":{"content":"Hi"}}],"usage":null}\n\n';
const USAGE = 'data: {"id":"x","choices": [ ],"usage": {"prompt_tokens":3}}\n\n';
const DONE = "data: [DONE]\n\n";

function through(filter: UsageEventFilter, chunks: readonly string[]): string[] {
  const out = chunks.map((chunk) => decoder.decode(filter.pass(encoder.encode(chunk))));
  const rest = decoder.decode(filter.end());
  return rest === "" ? out : [...out, rest];
}

Deno.test("the usage-only event is dropped; every other event passes as it is", () => {
  assert.deepEqual(
    through(new UsageEventFilter(), [TOKEN, TOKEN, USAGE, DONE]),
    [TOKEN, TOKEN, "", DONE],
  );
  assert.deepEqual(through(new UsageEventFilter(), [TOKEN + USAGE + DONE]), [TOKEN + DONE]);
});

Deno.test("a whole chunk without the usage event is passed on as the same bytes", () => {
  const filter = new UsageEventFilter();
  const chunk = encoder.encode(TOKEN + TOKEN);
  assert.equal(filter.pass(chunk), chunk);
});

Deno.test("an event split across chunks waits for its end; a split usage event is still dropped", () => {
  const split = USAGE.length - 10;
  assert.deepEqual(
    through(new UsageEventFilter(), [
      TOKEN.slice(0, 5),
      TOKEN.slice(5),
      USAGE.slice(0, split),
      USAGE.slice(split) + DONE,
    ]),
    ["", TOKEN, "", DONE],
  );
});

Deno.test("an event with empty choices and no usage object, or usage with choices, is kept", () => {
  const noUsage = 'data: {"choices":[],"usage":null}\n\n';
  const textOnly = 'data: {"choices":[{"delta":{"content":"\\"choices\\":[] \\"usage\\":{"}}]}\n\n';
  const both = 'data: {"choices":[{"delta":{}}],"usage":{"prompt_tokens":3}}\n\n';
  assert.deepEqual(through(new UsageEventFilter(), [noUsage, textOnly, both]), [
    noUsage,
    textOnly,
    both,
  ]);
});

Deno.test("CRLF line ends end events too; bytes left at the end pass as they are", () => {
  const crlf = 'data: {"choices":[],"usage":{"prompt_tokens":3}}\r\n\r\n';
  assert.deepEqual(
    through(new UsageEventFilter(), [TOKEN, crlf, "data: [DO"]),
    [TOKEN, "", "", "data: [DO"],
  );
});

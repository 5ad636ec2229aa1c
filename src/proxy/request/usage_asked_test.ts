import assert from "node:assert/strict";
import type { ClientBody } from "./body.ts";
import { withUsageAsked } from "./usage_asked.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function body(text: string): ClientBody {
  const json = JSON.parse(text);
  return {
    bytes: encoder.encode(text),
    contentType: "application/json",
    model: json.model,
    stream: json.stream === true,
    json,
  };
}

Deno.test("a stream is asked for usage after the opening brace, the rest byte for byte", () => {
  const text = ' {"model":"m",  "stream":true,"messages":[]}';
  const asked = withUsageAsked(body(text));
  assert.equal(
    decoder.decode(asked!.bytes),
    ' {"stream_options":{"include_usage":true},"model":"m",  "stream":true,"messages":[]}',
  );
});

Deno.test("a body that asks already, or does not stream, is left as it is", () => {
  assert.equal(
    withUsageAsked(body('{"model":"m","stream":true,"stream_options":{"include_usage":true}}')),
    undefined,
  );
  assert.equal(withUsageAsked(body('{"model":"m","stream":false}')), undefined);
  assert.equal(withUsageAsked(body('{"model":"m"}')), undefined);
});

Deno.test("stream options of the client's own are kept, with include_usage set", () => {
  for (const options of ['{"include_usage":false,"continuous_usage_stats":true}', "null"]) {
    const asked = withUsageAsked(body(`{"model":"m","stream":true,"stream_options":${options}}`));
    const sent = JSON.parse(decoder.decode(asked!.bytes));
    assert.equal(sent.stream_options.include_usage, true);
    assert.equal(sent.model, "m");
    if (options !== "null") assert.equal(sent.stream_options.continuous_usage_stats, true);
  }
});

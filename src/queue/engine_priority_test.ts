import assert from "node:assert/strict";
import type { ClientBody } from "../proxy/request/body.ts";
import { withEnginePriority } from "./engine_priority.ts";

function body(text: string): ClientBody {
  const json = JSON.parse(text);
  return {
    bytes: new TextEncoder().encode(text),
    contentType: "application/json",
    model: json.model ?? "m",
    stream: false,
    json,
  };
}
const text = (bytes: Uint8Array | undefined) =>
  bytes === undefined ? undefined : new TextDecoder().decode(bytes);

Deno.test("high and low classes splice vLLM's priority in, keeping every other byte", () => {
  const sent = '  {"model": "m",\n "messages": [], "x": 1.50}';
  assert.equal(
    text(withEnginePriority(body(sent), "high")),
    '  {"priority":-1,"model": "m",\n "messages": [], "x": 1.50}',
  );
  assert.deepEqual(JSON.parse(text(withEnginePriority(body(sent), "low"))!).priority, 1);
  assert.equal(text(withEnginePriority(body("{ }"), "low")), '{"priority":1 }');
});

Deno.test("normal, a body that names its priority, or no JSON body: nothing to splice", () => {
  assert.equal(withEnginePriority(body('{"model":"m"}'), "normal"), undefined);
  assert.equal(withEnginePriority(body('{"model":"m","priority":5}'), "high"), undefined);
  const upload: ClientBody = { ...body('{"model":"m"}'), json: undefined };
  assert.equal(withEnginePriority(upload, "high"), undefined);
});

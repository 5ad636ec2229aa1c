import assert from "node:assert/strict";
import { JsonLine, type JsonValue } from "./json_line.ts";
import { FieldName } from "./line_fields.ts";

const decoder = new TextDecoder();
const TIME = Date.UTC(2026, 10, 23, 10, 0, 0, 7);
const HEAD = { time: new Date(TIME).toISOString(), level: "info", msg: "m" };

function written(json: JsonLine, fields: readonly [string, JsonValue][]): string {
  json.start(TIME, HEAD.level, HEAD.msg);
  for (const [key, value] of fields) json.field(key, value);
  return decoder.decode(json.end());
}

/** What `JSON.stringify` writes for the same line, non-finite numbers as `null`. */
function expected(fields: readonly [string, JsonValue][]): string {
  return JSON.stringify({ ...HEAD, ...Object.fromEntries(fields) });
}

const TEXTS = [
  "",
  "plain ascii 0123 ~",
  'quote " and backslash \\',
  "control \u0000 \u0001 \b \f \n \r \t \u001f and DEL \u007f",
  "é, 中文, عربى",
  "emoji 🌍 and a lone surrogate \ud800 then \udc00 alone",
  "line separators \u2028 \u2029",
  "x".repeat(3000),
  "é".repeat(70000),
];

const NUMBERS = [0, -0, 7, 200, 1234567890123, 2 ** 53, -3, 1.4, 0.1, 1e21, 5e-7, -2.5e-300];

Deno.test("text is written as JSON.stringify writes it", () => {
  const json = new JsonLine();
  for (const text of TEXTS) {
    const fields: [string, JsonValue][] = [["text", text]];
    assert.equal(written(json, fields), expected(fields), JSON.stringify(text.slice(0, 40)));
  }
});

Deno.test("numbers, booleans and null are written as JSON.stringify writes them", () => {
  const json = new JsonLine();
  const fields: [string, JsonValue][] = [
    ...NUMBERS.map((value, i): [string, JsonValue] => [`n${i}`, value]),
    ["yes", true],
    ["no", false],
    ["none", null],
  ];
  assert.equal(written(json, fields), expected(fields));
  assert.equal(
    written(json, [["nan", NaN], ["inf", Infinity], ["minus_inf", -Infinity]]),
    expected([["nan", null], ["inf", null], ["minus_inf", null]]),
  );
});

Deno.test("fields named ahead write the same, and undefined ones are left out", () => {
  const json = new JsonLine();
  const text = new FieldName("text");
  const number = new FieldName("number");
  for (const value of TEXTS) {
    json.start(TIME, HEAD.level, HEAD.msg);
    json.text(text, value);
    json.text(new FieldName("gone"), undefined);
    assert.equal(decoder.decode(json.end()), expected([["text", value]]));
  }
  const label = new FieldName("label");
  for (const value of [...TEXTS, ...TEXTS]) {
    json.start(TIME, HEAD.level, HEAD.msg);
    json.label(label, value);
    json.label(new FieldName("gone"), undefined);
    assert.equal(decoder.decode(json.end()), expected([["label", value]]), "kept, then reused");
  }
  for (const value of [...NUMBERS, NaN, Infinity]) {
    json.start(TIME, HEAD.level, HEAD.msg);
    json.number(number, value);
    json.number(new FieldName("gone"), undefined);
    assert.equal(
      decoder.decode(json.end()),
      expected([["number", Number.isFinite(value) ? value : null]]),
    );
  }
});

Deno.test("keys and the head are escaped, and each line starts over", () => {
  const json = new JsonLine();
  const fields: [string, JsonValue][] = [['we"ird\n', 1], ["é", "a"], ["ok", "b"]];
  assert.equal(written(json, fields), expected(fields));
  json.start(TIME + 1993, "warn", 'say "hi"\n');
  assert.equal(
    decoder.decode(json.end()),
    JSON.stringify({ time: "2026-11-23T10:00:02.000Z", level: "warn", msg: 'say "hi"\n' }),
    "nothing of the last line left",
  );
});

Deno.test("after a line that needed a large buffer, small lines still come out whole", () => {
  const json = new JsonLine();
  const big: [string, JsonValue][] = [["text", "a\n".repeat(50000)]];
  assert.equal(written(json, big), expected(big));
  const small: [string, JsonValue][] = [["n", 1], ["s", "short"]];
  assert.equal(written(json, small), expected(small));
});

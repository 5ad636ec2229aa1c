import assert from "node:assert/strict";
import { boundaryOf, MultipartError, multipartValues } from "./multipart_fields.ts";

const encoder = new TextEncoder();
const values = (text: string, names = ["model"]) =>
  Object.fromEntries(
    [...multipartValues(encoder.encode(text), "b", names)].map(([name, field]) => [
      name,
      field.value,
    ]),
  );

Deno.test("finds fields after a preamble, past padding after a boundary, in a part's first value", () => {
  assert.deepEqual(
    values(
      "preamble\r\n--b \t\r\nContent-Disposition: form-data; name=model\r\n\r\nm1\r\n" +
        '--b\r\ncontent-disposition: form-data; name="model"\r\n\r\nm2\r\n--b--\r\nepilogue',
    ),
    { model: "m1" },
  );
});

Deno.test("a part without headers or content is skipped", () => {
  assert.deepEqual(
    values(
      '--b\r\n\r\n\r\n--b\r\nContent-Disposition: form-data; name="stream"\r\n\r\n\r\n' +
        '--b\r\nContent-Disposition: form-data; name="model"\r\n\r\nm\r\n--b--',
      ["model", "stream"],
    ),
    { model: "m", stream: "" },
  );
});

Deno.test("where the value lies is where it is replaced", () => {
  const text = '--b\r\nContent-Disposition: form-data; name="model"\r\n\r\nwhisper\r\n--b--';
  const field = multipartValues(encoder.encode(text), "b", ["model"]).get("model")!;
  assert.equal(text.slice(field.start, field.end), "whisper");
});

Deno.test("bodies whose parts cannot be read are refused", () => {
  for (
    const text of [
      "no boundary at all",
      '--b\r\nContent-Disposition: form-data; name="model"\r\n\r\nm\r\n--b',
      '--b\r\nContent-Disposition: form-data; name="model"\r\n\r\nm\r\n--bx\r\n',
      '--b\r\nContent-Disposition: form-data; name="model"\r\n' + "x".repeat(20_000),
      '--b\r\nContent-Disposition: form-data; name="model"\r\n\r\n\xff\r\n--b--',
    ]
  ) {
    const bytes = Uint8Array.from(text, (character) => character.charCodeAt(0));
    assert.throws(() => multipartValues(bytes, "b", ["model"]), MultipartError, text);
  }
});

Deno.test("reads the boundary of a content type, quoted or not", () => {
  assert.equal(boundaryOf("multipart/form-data; boundary=abc"), "abc");
  assert.equal(boundaryOf(`multipart/form-data; BOUNDARY="a b"; x=y`), "a b");
  assert.equal(boundaryOf("multipart/form-data"), undefined);
});

import assert from "node:assert/strict";
import { GatewayError } from "../../errors.ts";
import { readClientBody } from "./body.ts";

const post = (body: BodyInit, contentType?: string) =>
  new Request("http://gateway/v1/x", {
    method: "POST",
    body,
    headers: contentType ? { "content-type": contentType } : {},
  });

function chunked(...parts: string[]): ReadableStream<Uint8Array> {
  return ReadableStream.from(parts.map((part) => new TextEncoder().encode(part)));
}

async function refusal(promise: Promise<unknown>): Promise<GatewayError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof GatewayError);
    return error;
  }
  assert.fail("expected a refusal");
}

Deno.test("reads model and stream, keeping the exact bytes", async () => {
  const text = '{ "stream" : true, "model":"m", "tools":[{"type":"function"}], "x": 1.50 }';
  const body = await readClientBody(post(text, "application/json"), "json", { maxBytes: 1000 });
  assert.equal(body.model, "m");
  assert.equal(body.stream, true);
  assert.equal(new TextDecoder().decode(body.bytes), text);
});

Deno.test("refuses bad JSON, non-objects and a missing model with 400", async () => {
  assert.equal(
    (await refusal(readClientBody(post("{", "application/json"), "json", { maxBytes: 99 }))).code,
    "invalid_json",
  );
  assert.equal(
    (await refusal(readClientBody(post("[1]", "application/json"), "json", { maxBytes: 99 }))).code,
    "invalid_json",
  );
  const missing = await refusal(
    readClientBody(post('{"model":""}', "application/json"), "json", { maxBytes: 99 }),
  );
  assert.equal(missing.status, 400);
  assert.equal(missing.param, "model");
});

Deno.test("refuses a body that is not UTF-8 with 400, and keeps a U+FFFD the client wrote", async () => {
  const invalid = new Uint8Array([
    ...new TextEncoder().encode('{"model":"m","x":"'),
    0xff,
    0x22,
    0x7d,
  ]);
  const error = await refusal(
    readClientBody(post(invalid, "application/json"), "json", { maxBytes: 99 }),
  );
  assert.equal(error.code, "invalid_json");
  assert.match(error.message, /not valid UTF-8/);
  const written = '{"model":"m","x":"\uFFFD"}';
  const body = await readClientBody(post(written, "application/json"), "json", { maxBytes: 99 });
  assert.equal(body.json?.x, "\uFFFD");
});

Deno.test("refuses a wrong content type with 415", async () => {
  const error = await refusal(
    readClientBody(post("a=1", "application/x-www-form-urlencoded"), "json", { maxBytes: 99 }),
  );
  assert.equal(error.status, 415);
  const upload = await refusal(
    readClientBody(post("{}", "application/json"), "multipart", { maxBytes: 99 }),
  );
  assert.equal(upload.status, 415);
});

Deno.test("refuses a body over the limit with 413, declared or streamed", async () => {
  const big = JSON.stringify({ model: "m", input: "x".repeat(200) });
  assert.equal(
    (await refusal(readClientBody(post(big, "application/json"), "json", { maxBytes: 100 })))
      .status,
    413,
  );
  const streamed = await refusal(
    readClientBody(post(chunked(big.slice(0, 90), big.slice(90)), "application/json"), "json", {
      maxBytes: 100,
    }),
  );
  assert.equal(streamed.status, 413);
  assert.equal(
    streamed.message,
    "Request body is larger than the limit server.max-body-size of 100 bytes",
  );
  const mib = await refusal(
    readClientBody(
      post(chunked("x".repeat(3 * 1024 * 1024)), "application/json"),
      "json",
      { maxBytes: 2 * 1024 * 1024 },
    ),
  );
  assert.equal(
    mib.message,
    "Request body is larger than the limit server.max-body-size of 2MiB (2097152 bytes)",
  );
  const ok = await readClientBody(
    post(chunked('{"model":', '"m"}'), "application/json"),
    "json",
    { maxBytes: 100 },
  );
  assert.equal(ok.model, "m");
});

Deno.test("finds the model in a multipart upload and keeps the bytes", async () => {
  const form = new FormData();
  form.append("file", new Blob([new Uint8Array([0, 1, 2, 255])]), "a.wav");
  form.append("model", "whisper");
  const request = new Request("http://gateway/v1/audio/transcriptions", {
    method: "POST",
    body: form,
  });
  const original = new Uint8Array(await request.clone().arrayBuffer());
  const body = await readClientBody(request, "multipart", { maxBytes: 10_000 });
  assert.equal(body.model, "whisper");
  assert.deepEqual(body.bytes, original);
  assert.match(body.contentType, /^multipart\/form-data; boundary=/);
});

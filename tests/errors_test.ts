/**
 * The gateway's own refusals: OpenAI's error shape with a fitting status, and nothing sent
 * upstream.
 */
import assert from "node:assert/strict";
import { gatewayOverBackend } from "./fixtures/gateway.ts";

function setup() {
  return gatewayOverBackend((url) => `
server:
  max-body-size: 1KiB
model:
  services:
    chat:
      instances:
        - name: m
          base-url: ${url}
    stt:
      instances:
        - name: whisper
          base-url: ${url}
`);
}

/** Asserts an OpenAI-shaped error and returns its `error` object. */
async function assertOpenAiError(
  response: Response,
  status: number,
  code?: string,
): Promise<Record<string, unknown>> {
  const text = await response.text();
  assert.equal(response.status, status, text);
  assert.match(response.headers.get("content-type") ?? "", /^application\/json/);
  const body = JSON.parse(text);
  assert.deepEqual(Object.keys(body), ["error"]);
  const { error } = body;
  assert.deepEqual(Object.keys(error).toSorted(), ["code", "message", "param", "type"]);
  assert.equal(typeof error.message, "string");
  assert.ok(error.message.length > 0);
  assert.equal(typeof error.type, "string");
  assert.ok(error.param === null || typeof error.param === "string");
  assert.equal(typeof error.code, "string");
  if (code !== undefined) assert.equal(error.code, code);
  return error;
}

const post = (url: string, body: BodyInit | null, contentType?: string) =>
  fetch(url, {
    method: "POST",
    headers: contentType === undefined ? {} : { "content-type": contentType },
    body,
  });

Deno.test("bad JSON is refused with 400 invalid_json", async () => {
  await using t = await setup();
  const url = `${t.gateway.url}/v1/chat/completions`;
  await assertOpenAiError(
    await post(url, `{"model": "m",`, "application/json"),
    400,
    "invalid_json",
  );
  await assertOpenAiError(await post(url, `["m"]`, "application/json"), 400, "invalid_json");
  assert.equal(t.backend.requests.length, 0);
});

Deno.test("a body without a model is refused with 400", async () => {
  await using t = await setup();
  const error = await assertOpenAiError(
    await post(`${t.gateway.url}/v1/chat/completions`, `{"messages": []}`, "application/json"),
    400,
  );
  assert.equal(error.param, "model");
  const form = new FormData();
  form.append("file", new File(["abc"], "a.wav"));
  await assertOpenAiError(await post(`${t.gateway.url}/v1/audio/transcriptions`, form), 400);
  assert.equal(t.backend.requests.length, 0);
});

Deno.test("an unknown model is refused with 404 model_not_found", async () => {
  await using t = await setup();
  const error = await assertOpenAiError(
    await post(
      `${t.gateway.url}/v1/chat/completions`,
      `{"model": "nope", "messages": []}`,
      "application/json",
    ),
    404,
    "model_not_found",
  );
  assert.equal(error.param, "model");
  // A model of another service is unknown here.
  await assertOpenAiError(
    await post(
      `${t.gateway.url}/v1/embeddings`,
      `{"model": "m", "input": "x"}`,
      "application/json",
    ),
    404,
    "model_not_found",
  );
  assert.equal(t.backend.requests.length, 0);
});

Deno.test("a wrong content type is refused with 415", async () => {
  await using t = await setup();
  await assertOpenAiError(
    await post(`${t.gateway.url}/v1/chat/completions`, `{"model": "m"}`, "text/plain"),
    415,
  );
  await assertOpenAiError(
    await post(
      `${t.gateway.url}/v1/audio/transcriptions`,
      `{"model": "whisper"}`,
      "application/json",
    ),
    415,
  );
  assert.equal(t.backend.requests.length, 0);
});

Deno.test("a body over server.max-body-size is refused with 413, declared or chunked", async () => {
  await using t = await setup();
  const big = JSON.stringify({
    model: "m",
    messages: [{ role: "user", content: "x".repeat(2048) }],
  });
  const url = `${t.gateway.url}/v1/chat/completions`;
  await assertOpenAiError(await post(url, big, "application/json"), 413, "request_too_large");

  const bytes = new TextEncoder().encode(big);
  const chunked = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let i = 0; i < bytes.length; i += 256) controller.enqueue(bytes.slice(i, i + 256));
      controller.close();
    },
  });
  await assertOpenAiError(await post(url, chunked, "application/json"), 413, "request_too_large");

  // Just under the limit still passes.
  const small = JSON.stringify({ model: "m", messages: [], pad: "x".repeat(900) });
  const ok = await post(url, small, "application/json");
  assert.equal(ok.status, 200);
  await ok.body?.cancel();
  assert.equal(t.backend.requests.length, 1);
});

Deno.test("an unknown route is a 404 in OpenAI shape", async () => {
  await using t = await setup();
  await assertOpenAiError(await fetch(`${t.gateway.url}/v1/nothing/here`), 404);
  await assertOpenAiError(
    await post(`${t.gateway.url}/v2/chat/completions`, "{}", "application/json"),
    404,
  );
});

Deno.test("GET on a POST route is a 405 with Allow: POST", async () => {
  await using t = await setup();
  for (const path of ["/v1/chat/completions", "/v1/embeddings", "/v1/audio/transcriptions"]) {
    const response = await fetch(`${t.gateway.url}${path}`);
    assert.equal(response.headers.get("allow"), "POST", path);
    await assertOpenAiError(response, 405);
  }
});

Deno.test("gateway errors carry the request id", async () => {
  await using t = await setup();
  const response = await fetch(`${t.gateway.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-request-id": "err-123" },
    body: "{",
  });
  assert.equal(response.headers.get("x-request-id"), "err-123");
  await assertOpenAiError(response, 400, "invalid_json");
});

Deno.test("a multipart upload without a boundary is refused with 400", async () => {
  await using t = await setup();
  await assertOpenAiError(
    await post(`${t.gateway.url}/v1/audio/transcriptions`, "garbage", "multipart/form-data"),
    400,
  );
  assert.equal(t.backend.requests.length, 0);
});

/** A transcription upload framed by hand with `boundary`, its model part first. */
function uploadParts(boundary: string, file: string): string {
  return `--${boundary}\r\nContent-Disposition: form-data; name="model"\r\n\r\nwhisper\r\n` +
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n` +
    `Content-Type: audio/wav\r\n\r\n${file}`;
}

Deno.test("a truncated or malformed multipart upload is refused with 400 invalid_multipart", async () => {
  await using t = await setup();
  const url = `${t.gateway.url}/v1/audio/transcriptions`;
  const type = (boundary: string) => `multipart/form-data; boundary=${boundary}`;
  const refused: [string, string][] = [
    // Cut off in the middle of the file: no closing boundary.
    [uploadParts("b0und", "RIFF...."), type("b0und")],
    // Cut off within the closing boundary.
    [uploadParts("b0und", "RIFF....\r\n--b0und-"), type("b0und")],
    // Cut off after the model part, before any other part began.
    [`--b0und\r\nContent-Disposition: form-data; name="model"\r\n\r\nwhisper\r\n`, type("b0und")],
    // The boundary the content type names never appears.
    [uploadParts("other", "RIFF....\r\n--other--\r\n"), type("b0und")],
    // A boundary that is quoted, and then missing its close.
    [uploadParts("b 0", "RIFF...."), `multipart/form-data; boundary="b 0"`],
  ];
  for (const [body, contentType] of refused) {
    await assertOpenAiError(await post(url, body, contentType), 400, "invalid_multipart");
  }
  assert.equal(t.backend.requests.length, 0);
});

Deno.test("a hand-framed multipart upload, closed and with an epilogue, is forwarded byte for byte", async () => {
  await using t = await setup();
  const url = `${t.gateway.url}/v1/audio/transcriptions`;
  const bodies: [string, string][] = [
    [uploadParts("b0und", "RIFF....\r\n--b0und--"), "multipart/form-data; boundary=b0und"],
    [
      `preamble\r\n${uploadParts("b 0", "RIFF....\r\n--b 0--\r\nepilogue\r\n")}`,
      `multipart/form-data; boundary="b 0"`,
    ],
  ];
  for (const [body, contentType] of bodies) {
    const response = await post(url, body, contentType);
    assert.equal(response.status, 200, await response.text());
    assert.equal(new TextDecoder().decode(t.backend.requests.at(-1)?.body), body);
  }
});

Deno.test("POST on a GET route is a 405", async () => {
  await using t = await setup();
  for (const path of ["/v1/models", "/v1/chat/status", "/health"]) {
    const response = await post(`${t.gateway.url}${path}`, "{}", "application/json");
    await assertOpenAiError(response, 405);
    assert.match(response.headers.get("allow") ?? "", /GET/, path);
  }
});

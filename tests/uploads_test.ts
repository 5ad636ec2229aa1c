/**
 * Multipart uploads (speech to text, image edits): the gateway finds the `model` field wherever
 * it lies among the parts and whatever the other parts' headers hold, forwards the upload byte
 * for byte, refuses one over the size limit, and forwards nothing of one cut off on its way.
 */
import assert from "node:assert/strict";
import { startFakeBackend } from "./fixtures/fake_backend.ts";
import { gatewayOverBackend, startGateway } from "./fixtures/gateway.ts";

const encoder = new TextEncoder();
const BOUNDARY = "upload-boundary-7d1";
const CONTENT_TYPE = `multipart/form-data; boundary=${BOUNDARY}`;

/** A file larger than the bodies the runtime reads in one piece. */
const AUDIO = Uint8Array.from({ length: 200 * 1024 }, (_, index) => (index * 7) % 256);

/** A hand-framed upload of `parts`, each its headers and its content, closed. */
function upload(parts: readonly [string, Uint8Array | string][]): Uint8Array<ArrayBuffer> {
  const pieces: Uint8Array[] = [];
  for (const [headers, content] of parts) {
    pieces.push(encoder.encode(`--${BOUNDARY}\r\n${headers}\r\n\r\n`));
    pieces.push(typeof content === "string" ? encoder.encode(content) : content);
    pieces.push(encoder.encode("\r\n"));
  }
  pieces.push(encoder.encode(`--${BOUNDARY}--\r\n`));
  const bytes = new Uint8Array(pieces.reduce((sum, piece) => sum + piece.byteLength, 0));
  let offset = 0;
  for (const piece of pieces) {
    bytes.set(piece, offset);
    offset += piece.byteLength;
  }
  return bytes;
}

const filePart = (filename: string): [string, Uint8Array] => [
  `Content-Disposition: form-data; name="file"; filename="${filename}"\r\n` +
  "Content-Type: audio/wav",
  AUDIO,
];
const modelPart = (model: string): [string, string] => [
  `Content-Disposition: form-data; name="model"`,
  model,
];

function setup() {
  return gatewayOverBackend((url) => `
server:
  max-body-size: 256KiB
model:
  services:
    stt:
      instances:
        - name: whisper
          base-url: ${url}
`);
}

const transcribe = (gateway: string, body: BodyInit, contentType = CONTENT_TYPE) =>
  fetch(`${gateway}/v1/audio/transcriptions`, {
    method: "POST",
    headers: { "content-type": contentType },
    body,
  });

Deno.test("an upload whose model field follows the file is routed by it and arrives byte for byte", async () => {
  await using t = await setup();
  const bytes = upload([
    filePart("a.wav"),
    ["Content-Disposition: form-data; name=temperature", "0.2"],
    modelPart("whisper"),
  ]);
  const response = await transcribe(t.gateway.url, bytes);
  assert.equal(response.status, 200, await response.text());
  assert.deepEqual(t.backend.requests[0]?.body, bytes);
  assert.equal(t.backend.requests[0]?.headers.get("content-type"), CONTENT_TYPE);
});

Deno.test("quotes and a name= in a file's name are not taken for the model field", async () => {
  await using t = await setup();
  const bytes = upload([
    // Quotes escaped as curl escapes them: the part is still the file.
    [
      `Content-Disposition: form-data; filename="a \\"; name=model; b.wav"; name="file"`,
      "not-a-model",
    ],
    modelPart("whisper"),
    filePart(`say "hello".wav`),
  ]);
  const response = await transcribe(t.gateway.url, bytes);
  assert.equal(response.status, 200, await response.text());
  assert.deepEqual(t.backend.requests[0]?.body, bytes);
});

Deno.test("an upload sent chunked, without a Content-Length, arrives byte for byte", async () => {
  await using t = await setup();
  const bytes = upload([modelPart("whisper"), filePart("a.wav")]);
  const response = await transcribe(
    t.gateway.url,
    new ReadableStream({
      start(controller) {
        // Uneven pieces, the first smaller than what is read in one piece.
        for (const [from, to] of [[0, 1000], [1000, 90_000], [90_000, bytes.byteLength]]) {
          controller.enqueue(bytes.slice(from, to));
        }
        controller.close();
      },
    }),
  );
  assert.equal(response.status, 200, await response.text());
  assert.deepEqual(t.backend.requests[0]?.body, bytes);
});

Deno.test("an upload over server.max-body-size is refused with 413, declared or chunked", async () => {
  await using t = await setup();
  const bytes = upload([modelPart("whisper"), filePart("a.wav"), filePart("b.wav")]);
  assert.ok(bytes.byteLength > 256 * 1024);
  const declared = await transcribe(t.gateway.url, bytes);
  assert.equal(declared.status, 413);
  assert.equal((await declared.json()).error.code, "request_too_large");
  const chunked = await transcribe(
    t.gateway.url,
    new ReadableStream({
      start(controller) {
        for (let at = 0; at < bytes.byteLength; at += 64 * 1024) {
          controller.enqueue(bytes.slice(at, at + 64 * 1024));
        }
        controller.close();
      },
    }),
  );
  assert.equal(chunked.status, 413);
  assert.equal((await chunked.json()).error.code, "request_too_large");
  assert.equal(t.backend.requests.length, 0);
});

Deno.test("an upload cut off before its declared length reaches no backend, and the next one does", async () => {
  await using t = await setup();
  const bytes = upload([modelPart("whisper"), filePart("a.wav")]);
  const { port } = new URL(t.gateway.url);
  const connection = await Deno.connect({ hostname: "127.0.0.1", port: Number(port) });
  // Every part and the closing boundary arrive; the last bytes it announced never do.
  await connection.write(encoder.encode(
    `POST /v1/audio/transcriptions HTTP/1.1\r\nhost: 127.0.0.1\r\n` +
      `content-type: ${CONTENT_TYPE}\r\ncontent-length: ${bytes.byteLength + 1000}\r\n\r\n`,
  ));
  for (let at = 0; at < bytes.byteLength;) at += await connection.write(bytes.subarray(at));
  await connection.closeWrite();
  // Whatever the gateway says, if anything, it is not a success, and the connection ends.
  const answer = await new Response(connection.readable).text().catch(() => "");
  assert.doesNotMatch(answer, /^HTTP\/1\.1 2/);

  const whole = await transcribe(t.gateway.url, bytes);
  assert.equal(whole.status, 200, await whole.text());
  assert.equal(t.backend.requests.length, 1);
  assert.deepEqual(t.backend.requests[0]?.body, bytes);
});

Deno.test("a fallback model changes an upload's model field and no other byte", async () => {
  await using failing = await startFakeBackend({ name: "failing", failStatus: 500 });
  await using healthy = await startFakeBackend({ name: "healthy" });
  await using gateway = await startGateway(`
model:
  services:
    stt:
      retry:
        count: 0
      fallback:
        models: [whisper-small]
      instances:
        - name: whisper
          base-url: ${failing.url}
        - name: whisper-small
          base-url: ${healthy.url}
`);
  const parts = (model: string) => [filePart("a.wav"), modelPart(model), filePart("b.wav")];
  const response = await transcribe(gateway.url, upload(parts("whisper")));
  assert.equal(response.status, 200, await response.text());
  assert.equal(response.headers.get("x-switchyard-fallback-model"), "whisper-small");
  assert.deepEqual(healthy.requests[0]?.body, upload(parts("whisper-small")));
  assert.equal(healthy.requests[0]?.headers.get("content-type"), CONTENT_TYPE);
});

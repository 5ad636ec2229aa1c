/**
 * Clients that send their request body slowly, or stop sending it, over raw TCP: a body that
 * goes quiet past `server.timeouts.body-idle` ends with `408` and reaches no backend.
 */
import assert from "node:assert/strict";
import { gatewayOverBackend, oneService } from "./fixtures/gateway.ts";

const BODY_IDLE_MS = 200;
const SERVER = `server:\n  timeouts:\n    body-idle: ${BODY_IDLE_MS}\n`;
/** How long a test waits for an answer that should have come long before. */
const GIVE_UP_MS = 3_000;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A response as read off the wire. */
interface WireResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: string;
}

/** A raw connection to the gateway. */
async function connect(url: string) {
  const { port } = new URL(url);
  const connection = await Deno.connect({ hostname: "127.0.0.1", port: Number(port) });
  let received = "";
  const buffer = new Uint8Array(16 * 1024);
  /** Reads the one response the gateway sends, failing if it does not come in time. */
  async function readResponse(): Promise<WireResponse> {
    const giveUp = AbortSignal.timeout(GIVE_UP_MS);
    for (;;) {
      const response = parseResponse(received);
      if (response !== undefined) return response;
      const count = await Promise.race([
        connection.read(buffer),
        new Promise<never>((_, reject) =>
          giveUp.addEventListener("abort", () => reject(giveUp.reason), { once: true })
        ),
      ]);
      if (count === null) throw new Error(`The connection closed after: ${received}`);
      received += decoder.decode(buffer.subarray(0, count));
    }
  }
  return {
    send: (text: string | Uint8Array) =>
      connection.write(typeof text === "string" ? encoder.encode(text) : text),
    readResponse,
    [Symbol.dispose]: () => connection.close(),
  };
}

/** The response in `raw` once all of it is there (content-length or chunked), else undefined. */
function parseResponse(raw: string): WireResponse | undefined {
  const headEnd = raw.indexOf("\r\n\r\n");
  if (headEnd === -1) return undefined;
  const [statusLine = "", ...lines] = raw.slice(0, headEnd).split("\r\n");
  const headers = new Headers();
  for (const line of lines) {
    const colon = line.indexOf(":");
    headers.append(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  const status = Number(statusLine.split(" ")[1]);
  let rest = raw.slice(headEnd + 4);
  const length = headers.get("content-length");
  if (length !== null) {
    return rest.length < Number(length) ? undefined : { status, headers, body: rest };
  }
  let body = "";
  for (;;) {
    const sizeEnd = rest.indexOf("\r\n");
    if (sizeEnd === -1) return undefined;
    const size = parseInt(rest.slice(0, sizeEnd), 16);
    if (size === 0) return { status, headers, body };
    if (rest.length < sizeEnd + 2 + size + 2) return undefined;
    body += rest.slice(sizeEnd + 2, sizeEnd + 2 + size);
    rest = rest.slice(sizeEnd + 2 + size + 2);
  }
}

const chatHead = (length: number) =>
  "POST /v1/chat/completions HTTP/1.1\r\nHost: gateway\r\n" +
  `Content-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`;

const IDLE_ERROR = {
  error: {
    message:
      `The request body did not arrive within server.timeouts.body-idle (${BODY_IDLE_MS} ms)`,
    type: "invalid_request_error",
    param: null,
    code: "request_timeout",
  },
};

Deno.test("a JSON body that stops arriving ends with 408 request_timeout, asking to close", async () => {
  await using setup = await gatewayOverBackend((url) =>
    oneService("chat", [url], { server: SERVER })
  );
  using client = await connect(setup.gateway.url);
  await client.send(chatHead(1000) + '{"model":"m","messages":[');
  const response = await client.readResponse();
  assert.equal(response.status, 408);
  assert.match(response.headers.get("connection") ?? "", /\bclose\b/);
  assert.deepEqual(JSON.parse(response.body), IDLE_ERROR);
  assert.equal(setup.backend.requests.length, 0, "the backend was not contacted");
});

Deno.test("a small body that trickles in must arrive whole within body-idle", async () => {
  await using setup = await gatewayOverBackend((url) =>
    oneService("chat", [url], { server: SERVER })
  );
  using client = await connect(setup.gateway.url);
  await client.send(chatHead(1000));
  const answered = client.readResponse();
  let sent = 0;
  const trickle = setInterval(() => void client.send("x").then(() => sent++), BODY_IDLE_MS / 5);
  try {
    const response = await answered;
    assert.equal(response.status, 408);
    assert.ok(sent >= 3, `${sent} bytes were sent before the answer`);
  } finally {
    clearInterval(trickle);
  }
  assert.equal(setup.backend.requests.length, 0);
});

Deno.test("a large body that keeps arriving is read to its end, however long it takes", async () => {
  await using setup = await gatewayOverBackend((url) =>
    oneService("chat", [url], { server: SERVER })
  );
  const padding = "x".repeat(200 * 1024);
  const body = encoder.encode(JSON.stringify({ model: "m", messages: [], padding }));
  using client = await connect(setup.gateway.url);
  await client.send(chatHead(body.byteLength));
  // Five parts, half of body-idle apart: longer than body-idle in all.
  const parts = 5;
  const size = Math.ceil(body.byteLength / parts);
  for (let part = 0; part < parts; part++) {
    if (part > 0) await new Promise((resolve) => setTimeout(resolve, BODY_IDLE_MS / 2));
    await client.send(body.subarray(part * size, (part + 1) * size));
  }
  const response = await client.readResponse();
  assert.equal(response.status, 200, response.body);
  assert.equal(setup.backend.requests[0]?.body.byteLength, body.byteLength);
});

Deno.test("a large body that stops arriving part way ends with 408", async () => {
  await using setup = await gatewayOverBackend((url) =>
    oneService("chat", [url], { server: SERVER })
  );
  using client = await connect(setup.gateway.url);
  await client.send(chatHead(500 * 1024) + "x".repeat(100 * 1024));
  const response = await client.readResponse();
  assert.equal(response.status, 408);
  assert.deepEqual(JSON.parse(response.body), IDLE_ERROR);
  assert.equal(setup.backend.requests.length, 0);
});

Deno.test("a chunked body that stops arriving ends with 408", async () => {
  await using setup = await gatewayOverBackend((url) =>
    oneService("chat", [url], { server: SERVER })
  );
  using client = await connect(setup.gateway.url);
  await client.send(
    "POST /v1/chat/completions HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\n" +
      'Transfer-Encoding: chunked\r\n\r\n5\r\n{"mod\r\n',
  );
  assert.equal((await client.readResponse()).status, 408);
  assert.equal(setup.backend.requests.length, 0);
});

Deno.test("an upload that stops arriving ends with 408 and reaches no backend", async () => {
  await using setup = await gatewayOverBackend((url) =>
    oneService("stt", [url], { server: SERVER, model: "whisper" })
  );
  using client = await connect(setup.gateway.url);
  const boundary = "b0undary";
  const started = `--${boundary}\r\nContent-Disposition: form-data; name="model"\r\n\r\n` +
    `whisper\r\n--${boundary}\r\n` +
    'Content-Disposition: form-data; name="file"; filename="a.wav"\r\n' +
    "Content-Type: audio/wav\r\n\r\nRIFF";
  await client.send(
    "POST /v1/audio/transcriptions HTTP/1.1\r\nHost: gateway\r\n" +
      `Content-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: 5000\r\n\r\n` +
      started,
  );
  assert.equal((await client.readResponse()).status, 408);
  assert.equal(setup.backend.requests.length, 0);
});

Deno.test("with body-idle 0 a body may pause as long as it likes", async () => {
  await using setup = await gatewayOverBackend((url) =>
    oneService("chat", [url], { server: "server:\n  timeouts:\n    body-idle: 0\n" })
  );
  const body = '{"model":"m","messages":[]}';
  using client = await connect(setup.gateway.url);
  await client.send(chatHead(body.length) + body.slice(0, 5));
  await new Promise((resolve) => setTimeout(resolve, BODY_IDLE_MS * 2));
  await client.send(body.slice(5));
  assert.equal((await client.readResponse()).status, 200);
});

// What the runtime does before the gateway sees a request, as the README says. No setting
// changes it; should a runtime upgrade change it, the README's Slow clients section must too.
Deno.test("a request head over 64 KiB gets the runtime's bare 400, one under it is served", async () => {
  await using setup = await gatewayOverBackend((url) => oneService("chat", [url]));
  const headWith = (padding: number) =>
    `GET /health HTTP/1.1\r\nHost: gateway\r\nX-Padding: ${"a".repeat(padding)}\r\n\r\n`;
  {
    using client = await connect(setup.gateway.url);
    await client.send(headWith(60 * 1024));
    assert.equal((await client.readResponse()).status, 200);
  }
  using client = await connect(setup.gateway.url);
  await client.send(headWith(70 * 1024));
  const response = await client.readResponse();
  assert.equal(response.status, 400);
  assert.equal(response.body, "");
  assert.equal(response.headers.get("content-type"), null);
});

import assert from "node:assert/strict";
import { type FirstEvent, readFirstEvent } from "./first_event.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A stream of `chunks`, counting how many were pulled. */
function streamOf(chunks: readonly string[]) {
  const pulled = { count: 0 };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      const next = chunks[pulled.count++];
      if (next === undefined) controller.close();
      else controller.enqueue(encoder.encode(next));
    },
  }, { highWaterMark: 0 });
  return { stream, pulled };
}

function read(chunks: readonly string[]): Promise<FirstEvent> {
  return readFirstEvent(streamOf(chunks).stream, { idleTimeout: 0, onIdle: () => {} });
}

function heldText(first: FirstEvent): string {
  return first.body.held.map((chunk) => decoder.decode(chunk)).join("");
}

Deno.test("reading stops at the chunk that completes the first data event", async () => {
  const { stream, pulled } = streamOf([
    ": ping\n\n",
    "id: 1\n\n",
    "data: a",
    "\r\n\r\ndata: b\n\n",
  ]);
  const first = await readFirstEvent(stream, { idleTimeout: 0, onIdle: () => {} });
  assert.equal(first.kind, "data");
  assert.equal(heldText(first), ": ping\n\nid: 1\n\ndata: a\r\n\r\ndata: b\n\n");
  assert.equal(pulled.count, 4, "nothing past the first event was read");
  assert.equal((await first.body.reader.read()).done, true);
});

Deno.test("an error in the data of the first event, or an error event, is the backend's failure", async () => {
  const vllm = await read(['data: {"error":{"message":"overloaded","code":503}}\n\n']);
  assert.deepEqual(vllm.kind === "error" && vllm.message, "overloaded");
  const named = await read(['event: error\ndata: {"message":"no slots"}\n\n']);
  assert.deepEqual(named.kind === "error" && named.message, "no slots");
  const text = await read(["event: error\ndata: Service unavailable\n\n"]);
  assert.deepEqual(text.kind === "error" && text.message, "Service unavailable");
  const busy = await read(['data: {"error":{"message":"slow down","code":429}}\n\n']);
  assert.equal(busy.kind, "error");
});

Deno.test("an error that names a client error, or data that mentions one, is data", async () => {
  const verdict = await read(['data: {"error":{"message":"too long","code":400}}\n\n']);
  assert.equal(verdict.kind, "data");
  // Anthropic's error events name the kind of error, not a status.
  const anthropic = await read([
    'event: error\ndata: {"type":"error","error":{"type":"invalid_request_error","message":"x"}}\n\n',
  ]);
  assert.equal(anthropic.kind, "data");
  const overloaded = await read([
    'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"x"}}\n\n',
  ]);
  assert.equal(overloaded.kind, "error");
  const mention = await read(['data: {"choices":[{"delta":{"content":"\\"error\\""}}]}\n\n']);
  assert.equal(mention.kind, "data");
  const ended = await read([": ping\n\n"]);
  assert.equal(ended.kind, "data", "a stream that ends without an event is passed on as it is");
  assert.equal(heldText(ended), ": ping\n\n");
});

Deno.test("a break before the first event rejects", async () => {
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(": ping\n\n"));
      controller.error(new Error("connection reset"));
    },
  });
  await assert.rejects(
    readFirstEvent(stream, { idleTimeout: 0, onIdle: () => {} }),
    /connection reset/,
  );
});

Deno.test("a character split between two chunks of the first event reads whole", async () => {
  const bytes = encoder.encode('event: error\ndata: {"error":{"message":"显存不足"}}\n\n');
  const cut = bytes.indexOf(0xe6) + 1; // inside the first CJK character
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(bytes.subarray(0, cut));
      controller.enqueue(bytes.subarray(cut));
      controller.close();
    },
  });
  const first = await readFirstEvent(stream, { idleTimeout: 0, onIdle: () => {} });
  assert.deepEqual(first.kind === "error" && first.message, "显存不足");
});

import { deepEqual, equal, ok } from "node:assert/strict";
import { startScriptedServer } from "../tests/fixtures/raw_http.ts";
import { epochMs, handle } from "./fake_backend.ts";
import { holdStreams } from "./_stream_client.ts";

const PATH = "/v1/chat/completions";

function stampedEvent(): string {
  return `data: {"choices":[{"delta":{"content":"sent ${epochMs().toFixed(3)}"}}]}\n\n`;
}

function chunk(text: string): string {
  return `${new TextEncoder().encode(text).length.toString(16)}\r\n${text}\r\n`;
}

const STREAM_HEAD = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n";

Deno.test("the stream client times every chunk of a chunked event stream", async () => {
  await using server = startScriptedServer(async (peer) => {
    await peer.readRequest();
    const second = stampedEvent();
    await peer.write(`${STREAM_HEAD}transfer-encoding: chunked\r\n\r\n`);
    await peer.write(chunk(stampedEvent()));
    // One event split over two chunks of the framing, in the middle of its stamp.
    const cut = second.indexOf("sent ") + 8;
    await peer.write(chunk(second.slice(0, cut)) + chunk(second.slice(cut)));
    await peer.write(chunk(stampedEvent()) + chunk("data: [DONE]\n\n") + "0\r\n\r\n");
  });
  const result = await holdStreams(server.url + PATH, { streams: 2, chunks: 3, intervalMs: 1 });
  deepEqual([result.completed, [...result.errors], result.chunks], [2, [], 6]);
  equal(result.gapsMs.length, 4);
  equal(result.delaysMs.length, 6);
  ok(result.delaysMs.every((delay) => delay >= 0 && delay < 10_000));
  ok(server.heads.every((head) => head.startsWith(`POST ${PATH} HTTP/1.1\r\n`)));
  ok(server.heads.every((head) => /\r\nx-bench-stream-chunks: 3\r\n/.test(head)));
  ok(server.heads.every((head) => /\r\nx-bench-chunk-delay: 1\r\n/.test(head)));
});

Deno.test("the stream client times each stream from when it was due to its response head", async () => {
  const HELD_MS = 50;
  await using server = startScriptedServer(async (peer) => {
    await peer.readRequest();
    if (peer.index === 0) await new Promise((resolve) => setTimeout(resolve, HELD_MS));
    await peer.write(`${STREAM_HEAD}connection: close\r\n\r\n`);
    await peer.write(stampedEvent() + "data: [DONE]\n\n");
  });
  const result = await holdStreams(server.url + PATH, { streams: 2, chunks: 1, intervalMs: 1 });
  equal(result.completed, 2);
  equal(result.headsMs.length, 2);
  ok(result.headsMs[0]! >= 0);
  ok(result.headsMs[1]! >= HELD_MS, `the held head came after ${result.headsMs[1]} ms`);
});

Deno.test("the stream client reads a stream that ends with its connection", async () => {
  await using server = startScriptedServer(async (peer) => {
    await peer.readRequest();
    await peer.write(`${STREAM_HEAD}connection: close\r\n\r\n`);
    await peer.write(stampedEvent() + stampedEvent() + "data: [DONE]\n\n");
  });
  const result = await holdStreams(server.url + PATH, { streams: 1, chunks: 2, intervalMs: 1 });
  deepEqual([result.completed, [...result.errors], result.chunks], [1, [], 2]);
});

Deno.test("the stream client counts failed streams by why they failed", async () => {
  await using server = startScriptedServer(async (peer) => {
    await peer.readRequest();
    if (peer.index === 0) {
      await peer.write("HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n");
    } else if (peer.index === 1) {
      await peer.write(`${STREAM_HEAD}\r\n${stampedEvent()}data: [DONE]\n\n`);
    } else {
      await peer.write(`${STREAM_HEAD}\r\n${stampedEvent()}`);
    }
  });
  const result = await holdStreams(server.url + PATH, { streams: 3, chunks: 2, intervalMs: 1 });
  equal(result.completed, 0);
  deepEqual(
    [...result.errors].sort(),
    [["1 of 2 chunks", 1], ["answered 503 Service Unavailable", 1], [
      "ended before data: [DONE]",
      1,
    ]],
  );
});

Deno.test("the fake backend's long streams carry the chunks asked for, each stamped", async () => {
  await using backend = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, handle);
  const url = `http://127.0.0.1:${backend.addr.port}${PATH}`;
  const result = await holdStreams(url, { streams: 3, chunks: 4, intervalMs: 1 });
  deepEqual([result.completed, [...result.errors], result.chunks], [3, [], 12]);
  equal(result.gapsMs.length, 9);
});

Deno.test("the stream client tells apart the gaps once every stream is open", async () => {
  await using backend = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, handle);
  const url = `http://127.0.0.1:${backend.addr.port}${PATH}`;
  const result = await holdStreams(url, { streams: 3, chunks: 20, intervalMs: 1 });
  equal(result.gapsMs.length, 57);
  // Each stream's chunks go on for 20 ms, long past one interval after the last one opened.
  ok(result.steadyGapsMs.length > 0 && result.steadyGapsMs.length <= 57);
  const all = [...result.gapsMs];
  ok([...result.steadyGapsMs].every((gap) => all.includes(gap)));
});

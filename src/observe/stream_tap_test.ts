import assert from "node:assert/strict";
import { lastDataEvent, StreamTap } from "./stream_tap.ts";

const encoder = new TextEncoder();

/** A tap on a clock the test moves, recording what goes to the gaps histogram. */
function tapAt(kind: "sse" | "stream" | "json" | "other") {
  let now = 0;
  const gaps: number[] = [];
  const tap = new StreamTap({
    elapsed: () => now,
    gaps: { observe: (value) => gaps.push(value) },
    readsUsage: true,
  }, kind);
  return {
    tap,
    gaps,
    at(ms: number, text: string) {
      now = ms;
      tap.chunk(encoder.encode(text));
    },
  };
}

const event = (token: string) => `data: {"choices":[{"delta":{"content":"${token}"}}]}\n\n`;

Deno.test("an SSE stream: first chunk, mean gap between events, bytes and usage", () => {
  const t = tapAt("sse");
  t.at(100, event("a"));
  t.at(120, event("b"));
  t.at(160, event("c") + event("d"));
  t.at(165, `data: {"choices":[],"usage":{"prompt_tokens":2,"completion_tokens":4}}\n\n`);
  t.at(166, "data: [DONE]\n\n");
  const result = t.tap.result();
  assert.equal(result.firstChunk, 100);
  assert.deepEqual(result.usage, { input: 2, output: 4 });
  assert.equal(
    result.bytes,
    encoder.encode(
      event("a") + event("b") + event("c") + event("d") +
        `data: {"choices":[],"usage":{"prompt_tokens":2,"completion_tokens":4}}\n\n` +
        "data: [DONE]\n\n",
    ).byteLength,
  );
  // Six events, the last being [DONE]: five tokens' events from 100 to 166 ms, four gaps.
  assert.deepEqual(t.gaps, [(166 - 100) / 4 / 1000]);
  assert.equal(result.interTokenLatency, (166 - 100) / 4);
});

Deno.test("events split across chunks and CRLF blank lines are counted once each", () => {
  const t = tapAt("sse");
  t.at(0, "data: {}\r\n");
  t.at(10, "\r\ndata: {}\n");
  t.at(30, "\ndata: {}\n\ndata: [DONE]\n\n");
  t.tap.result();
  // Four events: the first ends at 10 ms, the next two and [DONE] at 30 ms.
  assert.deepEqual(t.gaps, [(30 - 10) / 2 / 1000]);
  t.tap.result();
  assert.equal(t.gaps.length, 1, "a stream's gap is observed once, however often it is read");
});

Deno.test("a stream of one event has no gap; a JSON body has no first token", () => {
  const one = tapAt("sse");
  one.at(5, event("a") + "data: [DONE]\n\n");
  assert.equal(one.tap.result().firstChunk, 5);
  assert.deepEqual(one.gaps, []);

  const json = tapAt("json");
  json.at(5, '{"usage":{"prompt_tokens":1,');
  json.at(6, '"completion_tokens":2}}');
  const result = json.tap.result();
  assert.equal(result.firstChunk, undefined);
  assert.deepEqual(result.usage, { input: 1, output: 2 });
  assert.deepEqual(json.gaps, []);

  const audio = tapAt("stream");
  audio.at(7, "\x00\x01");
  assert.equal(audio.tap.result().firstChunk, 7);
  assert.equal(audio.tap.result().usage, undefined);
});

Deno.test("a tap whose usage nobody reads keeps no tail and reports none", () => {
  const tap = new StreamTap({ elapsed: () => 5, gaps: undefined, readsUsage: false }, "sse");
  tap.chunk(encoder.encode(event("a")));
  tap.chunk(encoder.encode(`data: {"choices":[],"usage":{"prompt_tokens":2}}\n\n`));
  const result = tap.result();
  assert.equal(result.usage, undefined);
  assert.equal(result.firstChunk, 5);
  assert.ok(result.bytes > 0);
});

Deno.test("a stream's usage is read from its last event that is not [DONE]", () => {
  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  const event = (data: string, end = "\n\n") => `data: ${data}${end}`;
  const usage = '{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":5}}';
  assert.equal(
    text(lastDataEvent(encoder.encode(event('{"a":1}') + event(usage) + event("[DONE]")))),
    `data: ${usage}`,
  );
  assert.equal(
    text(lastDataEvent(encoder.encode(
      event("1", "\r\n\r\n") + event("2", "\r\n\r\n") +
        "data:[DONE]\r\n\r\n",
    ))),
    "data: 2",
    "CRLF line ends, and [DONE] without a space",
  );
  assert.equal(text(lastDataEvent(encoder.encode(event("1") + "data: 2"))), "data: 2", "no end");
  assert.equal(
    text(lastDataEvent(encoder.encode("event: x\nid: 7\ndata: 1\n\n"))),
    "event: x\nid: 7\ndata: 1",
    "an event of several lines is kept whole",
  );
  assert.equal(text(lastDataEvent(encoder.encode(event("[DONE]")))), "");
  assert.equal(text(lastDataEvent(new Uint8Array(0))), "");

  const tap = new StreamTap({ elapsed: () => 0, gaps: undefined, readsUsage: true }, "sse");
  for (const chunk of [event('{"usage":null}'), event(usage), event("[DONE]")]) {
    tap.chunk(encoder.encode(chunk));
  }
  assert.deepEqual(tap.result().usage, { input: 3, output: 5 });
  const early = new StreamTap({ elapsed: () => 0, gaps: undefined, readsUsage: true }, "sse");
  for (const chunk of [event(usage), event('{"choices":[{"delta":{}}]}'), event("[DONE]")]) {
    early.chunk(encoder.encode(chunk));
  }
  assert.equal(early.result().usage, undefined, "usage before the last event is not the total");
});

/** A tap that reads usage, fed `chunks` in turn. */
function tapOf(kind: "sse" | "json", chunks: string[]): StreamTap {
  const tap = new StreamTap({ elapsed: () => 0, gaps: undefined, readsUsage: true }, kind);
  for (const chunk of chunks) tap.chunk(encoder.encode(chunk));
  return tap;
}

const USAGE_EVENT = `data: {"choices":[],"usage":{"prompt_tokens":7,"completion_tokens":9}}\n\n`;

Deno.test("an SSE tap keeps about one event, however long the stream", () => {
  const tokens = Array.from({ length: 200 }, (_, n) => event(`token ${n}`));
  const tap = tapOf("sse", tokens);
  assert.ok(
    tap.keptBytes <= event("token 199").length,
    `${tap.keptBytes} bytes kept for events of ${event("token 199").length}`,
  );
  for (const chunk of [USAGE_EVENT, "data: [DONE]\n\n"]) tap.chunk(encoder.encode(chunk));
  assert.ok(tap.keptBytes <= USAGE_EVENT.length + "data: [DONE]\n\n".length);
  assert.deepEqual(tap.result().usage, { input: 7, output: 9 });
});

Deno.test("an SSE tap finds usage in events and blank lines split across chunks", () => {
  const whole = event("a") + event("b") + USAGE_EVENT + "data: [DONE]\n\n";
  // Every way of cutting the stream in three.
  for (let first = 1; first < whole.length; first += 7) {
    for (let second = first + 1; second < whole.length; second += 5) {
      const tap = tapOf("sse", [
        whole.slice(0, first),
        whole.slice(first, second),
        whole.slice(second),
      ]);
      assert.deepEqual(tap.result().usage, { input: 7, output: 9 }, `cut at ${first}, ${second}`);
    }
  }
  const crlf = tapOf("sse", [
    'data: {"usage":{"prompt_tokens":1,"completion_tokens":2}}\r',
    "\n\r",
    "\ndata: [DONE]\r\n",
    "\r\n",
  ]);
  assert.deepEqual(crlf.result().usage, { input: 1, output: 2 });
});

Deno.test("an SSE tap reads usage only from the last event before [DONE]", () => {
  assert.deepEqual(tapOf("sse", [event("a"), USAGE_EVENT]).result().usage, { input: 7, output: 9 });
  assert.deepEqual(
    tapOf("sse", [USAGE_EVENT, "data: [DONE]\n\n", "data: [DONE]\n\n"]).result().usage,
    { input: 7, output: 9 },
    "several [DONE]s",
  );
  assert.equal(tapOf("sse", [USAGE_EVENT, event("late")]).result().usage, undefined);
  assert.equal(tapOf("sse", ["data: [DONE]\n\n"]).result().usage, undefined);
  assert.deepEqual(
    tapOf("sse", [event("a"), USAGE_EVENT.trimEnd()]).result().usage,
    { input: 7, output: 9 },
    "a last event without its blank line",
  );
});

Deno.test("usage at the end of an event longer than the kept bytes is still found", () => {
  const long = `data: {"text":"${
    "x".repeat(40_000)
  }","usage":{"prompt_tokens":3,"completion_tokens":4}}\n\n`;
  const pieces = long.match(/[^]{1,1000}/g)!;
  const tap = tapOf("sse", [...pieces, "data: [DONE]\n\n"]);
  assert.ok(tap.keptBytes <= 16384 + 1000);
  assert.deepEqual(tap.result().usage, { input: 3, output: 4 });
  const json = tapOf("json", long.slice(6).match(/[^]{1,1000}/g)!);
  assert.ok(json.keptBytes <= 16384 + 1000);
  assert.deepEqual(json.result().usage, { input: 3, output: 4 });
});

Deno.test("a stream's tokens: its usage, else its events, else its chunks, [DONE] left out", () => {
  const withUsage = tapAt("sse");
  withUsage.at(0, event("a") + event("b"));
  withUsage.at(5, `data: {"choices":[],"usage":{"prompt_tokens":2,"completion_tokens":9}}\n\n`);
  withUsage.at(6, "data: [DONE]\n\n");
  assert.equal(withUsage.tap.tokens(), 9);
  assert.deepEqual(withUsage.tap.result().usage, { input: 2, output: 9 }, "usage read once");

  const events = tapAt("sse");
  events.at(0, event("a") + event("b"));
  events.at(5, event("c") + "data: [DONE]\n\n");
  assert.equal(events.tap.tokens(), 3);

  // Events are counted without a gaps histogram too: two in one chunk are two.
  const chunks = new StreamTap({ elapsed: () => 0, gaps: undefined, readsUsage: false }, "sse");
  for (const text of [event("a") + event("b"), event("c"), "data: [DONE]\n\n"]) {
    chunks.chunk(encoder.encode(text));
  }
  assert.equal(chunks.tokens(), 3);
});

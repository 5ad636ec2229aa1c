import assert from "node:assert/strict";
import { LineWriter } from "./line_writer.ts";
import { FieldName, type LineFields } from "./line_fields.ts";
import { Logger, type LoggerOptions } from "./logger.ts";
import { LogLines } from "../../tests/fixtures/log_lines.ts";

function capture(options: Partial<LoggerOptions> = {}) {
  const output = new LogLines();
  const lines = output.lines;
  const logger = new Logger({
    level: "info",
    format: "json",
    output,
    now: () => Date.UTC(2026, 10, 22, 10, 0, 5, 7),
    ...options,
  });
  return { logger, lines };
}

Deno.test("a JSON line holds time, level, message and the defined fields, escaped", () => {
  const { logger, lines } = capture();
  logger.info('say "hi"\n', {
    status: 200,
    ratio: 0.5,
    ok: true,
    none: null,
    left: undefined,
    text: 'a "b"\\c',
    infinite: Infinity,
  });
  assert.equal(lines.length, 1);
  assert.deepEqual(JSON.parse(lines[0]!), {
    time: "2026-11-22T10:00:05.007Z",
    level: "info",
    msg: 'say "hi"\n',
    status: 200,
    ratio: 0.5,
    ok: true,
    none: null,
    text: 'a "b"\\c',
    infinite: null,
  });
});

Deno.test("times keep their milliseconds across seconds, as toISOString writes them", () => {
  const { logger, lines } = capture();
  const times = [
    Date.UTC(2026, 0, 1, 0, 0, 0, 0),
    Date.UTC(2026, 0, 1, 0, 0, 0, 45),
    Date.UTC(2026, 0, 1, 0, 0, 0, 999),
    Date.UTC(2026, 0, 1, 0, 0, 1, 100),
    Date.UTC(2025, 11, 31, 23, 59, 59, 5),
  ];
  for (const time of times) logger.log("info", "t", undefined, time);
  assert.deepEqual(
    lines.map((line) => JSON.parse(line).time),
    times.map((time) => new Date(time).toISOString()),
  );
});

Deno.test("lines below the level are not written", () => {
  const { logger, lines } = capture({ level: "warn" });
  logger.debug("d");
  logger.info("i");
  logger.warn("w");
  logger.error("e");
  assert.deepEqual(lines.map((line) => JSON.parse(line).level), ["warn", "error"]);
  assert.equal(logger.enabled("info"), false);
  assert.equal(logger.enabled("error"), true);
});

Deno.test("a text line is readable: time, level, message, then key=value", () => {
  const { logger, lines } = capture({ format: "text" });
  logger.warn("POST /v1/chat/completions 429", {
    status: 429,
    reason: "rate_limit_exceeded",
    error: "Rate limit reached",
    gone: undefined,
  });
  assert.equal(
    lines[0],
    "2026-11-22T10:00:05.007Z WARN  POST /v1/chat/completions 429 status=429 " +
      'reason=rate_limit_exceeded error="Rate limit reached"',
  );
});

const STATUS = new FieldName("status");
const REASON = new FieldName("reason");
const GONE = new FieldName("gone");

/** A line's fields added one by one, as a request's line is written. */
function refusal(line: LineFields, subject: { status: number; reason: string }): void {
  line.number(STATUS, subject.status);
  line.text(REASON, subject.reason);
  line.text(GONE, undefined);
}

Deno.test("fields added one by one make the same lines as fields in an object", () => {
  const time = Date.UTC(2026, 10, 22, 10, 0, 5, 7);
  for (const format of ["json", "text"] as const) {
    const { logger, lines } = capture({ format });
    const subject = { status: 429, reason: "rate limited" };
    logger.logWith("warn", "POST /v1/chat/completions 429", time, refusal, subject);
    logger.log("warn", "POST /v1/chat/completions 429", { ...subject, gone: undefined }, time);
    assert.equal(lines.length, 2);
    assert.equal(lines[0], lines[1], format);
  }
  const { logger, lines } = capture({ level: "error" });
  logger.logWith("warn", "m", time, refusal, { status: 429, reason: "r" });
  assert.equal(lines.length, 0, "below the level, nothing is written");
});

Deno.test("the line writer batches lines until flushed or its buffer is full", () => {
  const writes: string[] = [];
  const decoder = new TextDecoder();
  const writer = new LineWriter({
    write: (bytes) => writes.push(decoder.decode(bytes)),
    maxDelay: 1,
    maxBytes: 10,
  });
  writer.line("ab");
  writer.line("cd");
  assert.equal(writes.length, 0, "nothing written before the delay");
  writer.line("efghij");
  assert.deepEqual(writes, ["ab\ncd\n"], "what was pending is written when a line does not fit");
  writer.line("k");
  writer.flush();
  assert.deepEqual(writes.splice(0), ["ab\ncd\n", "efghij\nk\n"]);
  writer.flush();
  assert.equal(writes.length, 0, "an empty flush writes nothing");

  writer.line("é€");
  writer.line("🌍");
  assert.deepEqual(
    writes.splice(0),
    ["é€\n"],
    "6 bytes pending leave 4, too few for 🌍 (2 UTF-16 units, 4 bytes) and its newline",
  );
  writer.flush();
  assert.deepEqual(writes.splice(0), ["🌍\n"]);

  writer.line("ab");
  writer.line("a line longer than the buffer");
  assert.deepEqual(writes.splice(0), ["ab\n", "a line longer than the buffer\n"]);
  writer.flush();
  assert.equal(writes.length, 0, "the long line was written on its own, not kept");

  const immediate = new LineWriter({
    write: (bytes) => writes.push(decoder.decode(bytes)),
    maxDelay: 0,
  });
  immediate.line("now");
  assert.equal(writes.at(-1), "now\n");
});

Deno.test("the line writer copies lines given as bytes, batched with text lines", () => {
  const writes: string[] = [];
  const decoder = new TextDecoder();
  const writer = new LineWriter({
    write: (bytes) => writes.push(decoder.decode(bytes)),
    maxDelay: 1,
    maxBytes: 16,
  });
  const reused = new TextEncoder().encode('{"a":1}');
  writer.bytes(reused);
  reused.fill(0x78);
  writer.line("text");
  writer.bytes(new TextEncoder().encode("late"));
  assert.deepEqual(writes.splice(0), ['{"a":1}\ntext\n'], "the line was copied when given");
  writer.bytes(new TextEncoder().encode("more than sixteen bytes"));
  assert.deepEqual(writes.splice(0), ["late\n", "more than sixteen bytes\n"]);
  writer.flush();
  assert.equal(writes.length, 0);
});

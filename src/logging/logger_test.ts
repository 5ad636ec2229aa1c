import assert from "node:assert/strict";
import { LineWriter } from "./line_writer.ts";
import { Logger, type LoggerOptions } from "./logger.ts";

function capture(options: Partial<LoggerOptions> = {}) {
  const lines: string[] = [];
  const logger = new Logger({
    level: "info",
    format: "json",
    write: (line) => lines.push(line),
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

Deno.test("the line writer batches lines until flushed or the size is reached", () => {
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
  assert.deepEqual(writes, ["ab\ncd\nefghij\n"], "written once 10 bytes were pending");
  writer.line("k");
  writer.flush();
  assert.deepEqual(writes, ["ab\ncd\nefghij\n", "k\n"]);
  writer.flush();
  assert.equal(writes.length, 2, "an empty flush writes nothing");
  const immediate = new LineWriter({
    write: (bytes) => writes.push(decoder.decode(bytes)),
    maxDelay: 0,
  });
  immediate.line("now");
  assert.equal(writes.at(-1), "now\n");
});

import assert from "node:assert/strict";
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

Deno.test("the logger's own fields follow the message on every line, in both formats", () => {
  const json = capture({ fields: { worker: 2 } });
  json.logger.info("one", { status: 200 });
  json.logger.logWith(
    "info",
    "two",
    0,
    (line: LineFields) => line.number(new FieldName("n"), 1),
    0,
  );
  assert.deepEqual(Object.keys(JSON.parse(json.lines[0]!)), [
    "time",
    "level",
    "msg",
    "worker",
    "status",
  ]);
  assert.equal(JSON.parse(json.lines[0]!).worker, 2);
  assert.deepEqual(Object.keys(JSON.parse(json.lines[1]!)), [
    "time",
    "level",
    "msg",
    "worker",
    "n",
  ]);
  const text = capture({ format: "text", fields: { worker: 2 } });
  text.logger.info("one", { status: 200 });
  text.logger.logWith(
    "info",
    "two",
    0,
    (line: LineFields) => line.number(new FieldName("n"), 1),
    0,
  );
  assert.match(text.lines[0]!, / one worker=2 status=200$/);
  assert.match(text.lines[1]!, / two worker=2 n=1$/);
});

/**
 * The gateway's log: one line per event, as JSON (for log shippers, when the output is not a
 * terminal) or as readable text (when it is), below a configurable level. JSON lines are built
 * as bytes, the way a busy gateway writes a line per request.
 * @module
 */
import { JsonLine } from "./json_line.ts";
import type { FieldName, LineFields, WriteFields } from "./line_fields.ts";

/** Log levels, least severe first. */
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;

/** How much a line matters; lines below the configured level are not written. */
export type LogLevel = typeof LOG_LEVELS[number];

/** How lines are written. */
export type LogFormat = "json" | "text";

/** The fields of a line besides its time, level and message; undefined ones are left out. */
export type LogFields = Readonly<Record<string, string | number | boolean | null | undefined>>;

const RANK: Readonly<Record<LogLevel, number>> = { debug: 0, info: 1, warn: 2, error: 3 };
const TEXT_LEVEL: Readonly<Record<LogLevel, string>> = {
  debug: "DEBUG",
  info: "INFO ",
  warn: "WARN ",
  error: "ERROR",
};

/** Where lines go, without their newline: text lines as text, JSON lines as UTF-8 bytes. */
export interface LineSink {
  line(text: string): void;
  /** Takes `line`'s bytes, which are reused once this returns: a sink that keeps them copies. */
  bytes(line: Uint8Array): void;
}

/** Options for {@linkcode Logger}. */
export interface LoggerOptions {
  readonly level: LogLevel;
  readonly format: LogFormat;
  readonly output: LineSink;
  /** Clock, in ms. @default Date.now */
  readonly now?: () => number;
  /** Fields every line carries right after its message, e.g. the worker that wrote it. */
  readonly fields?: LogFields | undefined;
}

/** Writes log lines at or above its level. */
export class Logger {
  readonly #rank: number;
  readonly #format: LogFormat;
  readonly #output: LineSink;
  readonly #json = new JsonLine();
  readonly #now: () => number;
  readonly #fields: LogFields | undefined;
  /** For text lines, the ISO text of the last second, up to its milliseconds: `2026-…T10:00:00.`. */
  #second = NaN;
  #secondText = "";

  constructor(options: LoggerOptions) {
    this.#rank = RANK[options.level];
    this.#format = options.format;
    this.#output = options.output;
    this.#now = options.now ?? Date.now;
    this.#fields = options.fields;
  }

  /** Whether lines of `level` are written. */
  enabled(level: LogLevel): boolean {
    return RANK[level] >= this.#rank;
  }

  /**
   * Writes a line of `level`, when enabled; `time` is a clock time in ms (default now). A JSON
   * line holds time, level and message first, then the fields, with non-finite numbers as
   * `null`, as `JSON.stringify` writes them.
   */
  log(level: LogLevel, message: string, fields?: LogFields, time?: number): void {
    if (RANK[level] < this.#rank) return;
    const at = time ?? this.#now();
    if (this.#format === "text") {
      const head = textLine(this.#iso(at), level, message, this.#fields);
      this.#output.line(head + textFields(fields));
      return;
    }
    const json = this.#json;
    json.start(at, level, message);
    this.#jsonFields(this.#fields);
    this.#jsonFields(fields);
    this.#output.bytes(json.end());
  }

  /**
   * Writes a line of `level` as {@link log} does, when enabled, with the fields `write` adds
   * from `subject` one by one: for a line written often, such as one per request, with no
   * object of its fields made first.
   */
  logWith<T>(
    level: LogLevel,
    message: string,
    time: number,
    write: WriteFields<T>,
    subject: T,
  ): void {
    if (RANK[level] < this.#rank) return;
    if (this.#format === "text") {
      const text = new TextFields(textLine(this.#iso(time), level, message, this.#fields));
      write(text, subject);
      this.#output.line(text.line);
      return;
    }
    const json = this.#json;
    json.start(time, level, message);
    this.#jsonFields(this.#fields);
    write(json, subject);
    this.#output.bytes(json.end());
  }

  #jsonFields(fields: LogFields | undefined): void {
    if (fields === undefined) return;
    for (const key in fields) {
      const value = fields[key];
      if (value !== undefined) this.#json.field(key, value);
    }
  }

  /** `time` as ISO 8601 in UTC; the text up to the second is made once per second. */
  #iso(time: number): string {
    const second = Math.floor(time / 1000);
    if (second !== this.#second) {
      this.#second = second;
      this.#secondText = new Date(second * 1000).toISOString().slice(0, 20);
    }
    const ms = time - second * 1000;
    return `${this.#secondText}${ms < 10 ? "00" : ms < 100 ? "0" : ""}${Math.floor(ms)}Z`;
  }

  debug(message: string, fields?: LogFields): void {
    this.log("debug", message, fields);
  }

  info(message: string, fields?: LogFields): void {
    this.log("info", message, fields);
  }

  warn(message: string, fields?: LogFields): void {
    this.log("warn", message, fields);
  }

  error(message: string, fields?: LogFields): void {
    this.log("error", message, fields);
  }
}

/** `2026-11-22T10:00:00.000Z INFO  message key=value key="two words"`. */
function textLine(time: string, level: LogLevel, message: string, fields?: LogFields): string {
  return `${time} ${TEXT_LEVEL[level]} ${message}${textFields(fields)}`;
}

/** ` key=value key="two words"`. */
function textFields(fields: LogFields | undefined): string {
  let text = "";
  if (fields) {
    for (const key in fields) {
      const value = fields[key];
      if (value !== undefined) text += textField(key, value);
    }
  }
  return text;
}

/** ` key=value`, the value quoted when it has spaces, quotes or `=` in it. */
function textField(key: string, value: string | number | boolean | null): string {
  const text = String(value);
  return ` ${key}=${/^[^\s"=]+$/.test(text) ? text : JSON.stringify(text)}`;
}

/** A text line, its fields added one by one. */
class TextFields implements LineFields {
  line: string;

  constructor(head: string) {
    this.line = head;
  }

  text(name: FieldName, value: string | undefined): void {
    if (value !== undefined) this.line += textField(name.name, value);
  }

  label(name: FieldName, value: string | undefined): void {
    this.text(name, value);
  }

  number(name: FieldName, value: number | undefined): void {
    if (value !== undefined) this.line += textField(name.name, value);
  }
}

/**
 * The gateway's log: one line per event, as JSON (for log shippers, when the output is not a
 * terminal) or as readable text (when it is), below a configurable level.
 * @module
 */

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

/** Options for {@linkcode Logger}. */
export interface LoggerOptions {
  readonly level: LogLevel;
  readonly format: LogFormat;
  /** Writes one line, without its newline. */
  readonly write: (line: string) => void;
  /** Clock, in ms. @default Date.now */
  readonly now?: () => number;
}

/** Writes log lines at or above its level. */
export class Logger {
  readonly #rank: number;
  readonly #format: LogFormat;
  readonly #write: (line: string) => void;
  readonly #now: () => number;
  /** The ISO text of the second last formatted, up to its milliseconds: `2026-…T10:00:00.`. */
  #second = NaN;
  #secondText = "";

  constructor(options: LoggerOptions) {
    this.#rank = RANK[options.level];
    this.#format = options.format;
    this.#write = options.write;
    this.#now = options.now ?? Date.now;
  }

  /** Whether lines of `level` are written. */
  enabled(level: LogLevel): boolean {
    return RANK[level] >= this.#rank;
  }

  /** Writes a line of `level`, when enabled; `time` is a clock time in ms (default now). */
  log(level: LogLevel, message: string, fields?: LogFields, time?: number): void {
    if (RANK[level] < this.#rank) return;
    const at = this.#iso(time ?? this.#now());
    this.#write(
      this.#format === "json"
        ? jsonLine(at, level, message, fields)
        : textLine(at, level, message, fields),
    );
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

/**
 * One JSON object: time, level and message first, then the fields. `JSON.stringify` leaves out
 * undefined fields and writes non-finite numbers as `null`, in one native pass.
 */
function jsonLine(time: string, level: LogLevel, message: string, fields?: LogFields): string {
  const head = `{"time":"${time}","level":"${level}","msg":${JSON.stringify(message)}`;
  const rest = fields ? JSON.stringify(fields) : "{}";
  return rest === "{}" ? `${head}}` : `${head},${rest.slice(1)}`;
}

/** `2026-11-22T10:00:00.000Z INFO  message key=value key="two words"`. */
function textLine(time: string, level: LogLevel, message: string, fields?: LogFields): string {
  let line = `${time} ${TEXT_LEVEL[level]} ${message}`;
  if (fields) {
    for (const key in fields) {
      const value = fields[key];
      if (value === undefined) continue;
      const text = String(value);
      line += ` ${key}=${/^[^\s"=]+$/.test(text) ? text : JSON.stringify(text)}`;
    }
  }
  return line;
}

/**
 * Builds a JSON log line straight into UTF-8 bytes, in one reused buffer: a line costs no
 * intermediate string, and no encoding pass after it. Text that is plain ASCII with nothing to
 * escape, which is nearly all a log line holds, is copied a character at a time; anything else
 * goes through `JSON.stringify`, so the output is what `JSON.stringify` would write.
 * @module
 */
import type { FieldName, LineFields } from "./line_fields.ts";

const encoder = new TextEncoder();

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LEVEL = encoder.encode(',"level":');
const MESSAGE = encoder.encode(',"msg":');
const TRUE = encoder.encode("true");
const FALSE = encoder.encode("false");
const NULL = encoder.encode("null");
/** The buffer's size to start with, and to go back to after a line that needed more than. */
const USUAL_BYTES = 1024;
const MOST_KEPT_BYTES = 65536;
/** The most `,"key":` encodings kept for fields named by plain strings, and of labels. */
const MOST_KEPT = 1024;

/** A value a field named by a plain string may hold. */
export type JsonValue = string | number | boolean | null;

/** One JSON log line at a time, as bytes. */
export class JsonLine implements LineFields {
  #buffer = new Uint8Array(USUAL_BYTES);
  #at = 0;
  /** The `,"key":` bytes of fields named by plain strings. */
  readonly #keys = new Map<string, Uint8Array>();
  /** The JSON text of labels, as bytes. */
  readonly #labels = new Map<string, Uint8Array>();
  /** The second of the last line's time, and `{"time":"2026-…T10:00:00.` for it. */
  #second = NaN;
  #secondBytes = new Uint8Array(0);

  /**
   * Starts a new line, dropping the last: `{"time":…,"level":…,"msg":…`, the time (a clock
   * time in ms) in ISO 8601 and UTC, to the millisecond, as `Date.prototype.toISOString`.
   */
  start(time: number, level: string, message: string): void {
    if (this.#buffer.length > MOST_KEPT_BYTES) this.#buffer = new Uint8Array(USUAL_BYTES);
    this.#at = 0;
    this.#time(time);
    this.#bytes(LEVEL);
    this.#string(level);
    this.#bytes(MESSAGE);
    this.#string(message);
  }

  text(name: FieldName, value: string | undefined): void {
    if (value === undefined) return;
    this.#bytes(name.json);
    this.#string(value);
  }

  label(name: FieldName, value: string | undefined): void {
    if (value === undefined) return;
    this.#bytes(name.json);
    let bytes = this.#labels.get(value);
    if (bytes === undefined) {
      if (this.#labels.size >= MOST_KEPT) this.#labels.clear();
      bytes = encoder.encode(JSON.stringify(value));
      this.#labels.set(value, bytes);
    }
    this.#bytes(bytes);
  }

  number(name: FieldName, value: number | undefined): void {
    if (value === undefined) return;
    this.#bytes(name.json);
    this.#number(value);
  }

  /** Adds a field named by a plain string. */
  field(key: string, value: JsonValue): void {
    let keyBytes = this.#keys.get(key);
    if (keyBytes === undefined) {
      if (this.#keys.size >= MOST_KEPT) this.#keys.clear();
      keyBytes = encoder.encode(`,${JSON.stringify(key)}:`);
      this.#keys.set(key, keyBytes);
    }
    this.#bytes(keyBytes);
    if (typeof value === "string") this.#string(value);
    else if (typeof value === "number") this.#number(value);
    else this.#bytes(value === null ? NULL : value ? TRUE : FALSE);
  }

  /** Ends the line: its bytes, valid until the next {@link start}. */
  end(): Uint8Array {
    this.#room(1);
    this.#buffer[this.#at++] = 0x7d;
    return this.#buffer.subarray(0, this.#at);
  }

  /** `{"time":"2026-11-23T10:00:00.000Z"`; the text up to the second is made once a second. */
  #time(time: number): void {
    const second = Math.floor(time / 1000);
    if (second !== this.#second) {
      this.#second = second;
      const iso = new Date(second * 1000).toISOString().slice(0, 20);
      this.#secondBytes = encoder.encode(`{"time":"${iso}`);
    }
    this.#bytes(this.#secondBytes);
    this.#room(5);
    const ms = Math.floor(time - second * 1000);
    const buffer = this.#buffer;
    buffer[this.#at++] = 0x30 + Math.floor(ms / 100);
    buffer[this.#at++] = 0x30 + Math.floor(ms / 10) % 10;
    buffer[this.#at++] = 0x30 + ms % 10;
    buffer[this.#at++] = 0x5a; // Z
    buffer[this.#at++] = QUOTE;
  }

  #string(text: string): void {
    this.#room(text.length + 2);
    const buffer = this.#buffer;
    const start = this.#at;
    let at = start;
    buffer[at++] = QUOTE;
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      if (code < 0x20 || code === QUOTE || code === BACKSLASH || code > 0x7e) {
        this.#at = start;
        this.#encoded(JSON.stringify(text));
        return;
      }
      buffer[at++] = code;
    }
    buffer[at++] = QUOTE;
    this.#at = at;
  }

  /** A whole number's digits are written as they are worked out; others as `String` writes. */
  #number(value: number): void {
    if (!Number.isFinite(value)) this.#bytes(NULL);
    else if (Number.isSafeInteger(value) && value >= 0) this.#digits(value);
    else this.#ascii(String(value));
  }

  #digits(value: number): void {
    let digits = 1;
    for (let rest = value; rest >= 10; rest = Math.floor(rest / 10)) digits++;
    this.#room(digits);
    const buffer = this.#buffer;
    let rest = value;
    for (let at = this.#at + digits - 1; at >= this.#at; at--) {
      buffer[at] = 0x30 + rest % 10;
      rest = Math.floor(rest / 10);
    }
    this.#at += digits;
  }

  /** `text` as UTF-8: at most 3 bytes for each UTF-16 code unit. */
  #encoded(text: string): void {
    this.#room(text.length * 3);
    this.#at += encoder.encodeInto(text, this.#buffer.subarray(this.#at)).written;
  }

  /** Text known to be ASCII (a number as `String` writes it). */
  #ascii(text: string): void {
    this.#room(text.length);
    const buffer = this.#buffer;
    let at = this.#at;
    for (let i = 0; i < text.length; i++) buffer[at++] = text.charCodeAt(i);
    this.#at = at;
  }

  /** A key or a literal: a few bytes, copied in a loop rather than by a native call each. */
  #bytes(bytes: Uint8Array): void {
    this.#room(bytes.length);
    const buffer = this.#buffer;
    let at = this.#at;
    for (let i = 0; i < bytes.length; i++) buffer[at++] = bytes[i]!;
    this.#at = at;
  }

  /** Makes room for `bytes` more, and the closing brace. */
  #room(bytes: number): void {
    const needed = this.#at + bytes + 1;
    if (needed <= this.#buffer.length) return;
    const grown = new Uint8Array(Math.max(needed, this.#buffer.length * 2));
    grown.set(this.#buffer.subarray(0, this.#at));
    this.#buffer = grown;
  }
}

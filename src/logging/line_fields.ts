/**
 * The fields of a log line, added one by one by the code that knows them rather than gathered
 * in an object first: a request's line is written field by field straight into the line, with
 * each field's name encoded once, when the module naming it loads.
 * @module
 */

const encoder = new TextEncoder();

/** A field's name, as each line format writes it. */
export class FieldName {
  /** The name, as the text format writes it: `name=value`. */
  readonly name: string;
  /** `,"name":` in UTF-8, as the JSON format writes it after the fields before. */
  readonly json: Uint8Array;

  constructor(name: string) {
    this.name = name;
    this.json = encoder.encode(`,${JSON.stringify(name)}:`);
  }
}

/** Where the fields of one line go; a field whose value is undefined is left out. */
export interface LineFields {
  text(name: FieldName, value: string | undefined): void;
  /**
   * Text from a small set, such as a service, model or instance name, that recurs from line to
   * line: its encoding may be kept and reused.
   */
  label(name: FieldName, value: string | undefined): void;
  /** A number; JSON writes a non-finite one as `null`, as `JSON.stringify` does. */
  number(name: FieldName, value: number | undefined): void;
}

/** Adds the fields of `subject` to a line. */
export type WriteFields<T> = (line: LineFields, subject: T) => void;

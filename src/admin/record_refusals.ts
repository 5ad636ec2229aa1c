/**
 * The refusals of a change to a record the admin API keeps in the store (an API key, a team):
 * one the config file writes, an id already taken, an id not there.
 * @module
 */
import { GatewayError } from "../errors.ts";

/** The refusals for one kind of record, named as its routes name it. */
export class RecordRefusals {
  readonly #code: string;
  readonly #name: string;
  readonly #fullName: string;

  /**
   * `code` prefixes the error codes (`key` → `key_exists`); `name` and `fullName` name the
   * record in messages (`key`, `API key`).
   */
  constructor(code: string, name: string, fullName: string = name) {
    this.#code = code;
    this.#name = name;
    this.#fullName = fullName;
  }

  /** The record is written in the config file: changed there, not through the API. */
  inConfig(id: string): GatewayError {
    return new GatewayError(
      409,
      `${this.#code}_in_config`,
      `The ${this.#name} "${id}" is written in the config file; change it there`,
    );
  }

  taken(id: string): GatewayError {
    return new GatewayError(
      409,
      `${this.#code}_exists`,
      `A ${this.#name} with the id "${id}" exists already`,
      { param: "id" },
    );
  }

  missing(id: string): GatewayError {
    return new GatewayError(404, `${this.#code}_not_found`, `No ${this.#fullName} "${id}"`);
  }
}

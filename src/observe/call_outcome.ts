/**
 * How a call to a backend went, as metrics, request lines and traces record it.
 * @module
 */

/** Its HTTP status, or why there was none (`stopped`: the gateway stopped it at shutdown). */
export type CallOutcome =
  | number
  | "timeout"
  | "unreachable"
  | "bad_answer"
  | "client_gone"
  | "stopped";

/**
 * What the primary and its workers say to each other (`postMessage`), and what workers ask of
 * one another through the primary: their metrics, to apply a config version before a change
 * answers, and the admin actions on live state that every worker must take, since each keeps its
 * own.
 * @module
 */
import type { LiveAction } from "../admin/live_actions.ts";

/** What one worker asks all the others. */
export type Question =
  | { readonly kind: "metrics" }
  /** Apply config version `version` (or a later one) from the store before answering. */
  | { readonly kind: "config"; readonly version: number }
  | { readonly kind: "act"; readonly action: LiveAction }
  /** The finished request `id`, as `GET /admin/requests/{id}` answers it, if this worker has it. */
  | { readonly kind: "request"; readonly id: string };

/**
 * One worker's answer: its metrics' exposition, a request as JSON, or nothing once an action is
 * done (or when it has no such request).
 */
export interface Answer {
  readonly worker: number;
  readonly text?: string;
}

/** What the primary tells a worker. */
export type ToWorker =
  /**
   * The first message: the worker's number (from 1) of how many, and the port to serve (the
   * one the first worker took, when the config's is 0).
   */
  | {
    readonly kind: "start";
    readonly worker: number;
    readonly workers: number;
    readonly port: number;
  }
  /** Drain and stop, as on this signal. */
  | { readonly kind: "stop"; readonly signal: string }
  /** Read the config file again (SIGHUP). */
  | { readonly kind: "reload" }
  /** Another worker asks this. */
  | { readonly kind: "question"; readonly id: number; readonly question: Question }
  /** What the other workers answered to this worker's question `id`. */
  | { readonly kind: "answers"; readonly id: number; readonly answers: readonly Answer[] };

/** What a worker tells the primary. */
export type FromWorker =
  /** Listening on `port`. */
  | { readonly kind: "listening"; readonly port: number }
  /** Exiting with `code`: its last message. */
  | { readonly kind: "exit"; readonly code: number }
  /** Whole log lines to write to stdout. */
  | { readonly kind: "log"; readonly bytes: Uint8Array }
  /** Asks every other worker. */
  | { readonly kind: "ask"; readonly id: number; readonly question: Question }
  /** Answers another worker's question `id`. */
  | { readonly kind: "answer"; readonly id: number; readonly answer: Answer };

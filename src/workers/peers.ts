/**
 * What a worker's gateway sees of the other workers serving the same port: it can ask them
 * all something, and answers what they ask.
 * @module
 */
import type { Answer, Question } from "./messages.ts";

/** The other workers of this process, as one worker sees them. */
export interface Peers {
  /** This worker's number, from 1. */
  readonly worker: number;
  /** How many workers serve the port, this one included. */
  readonly workers: number;
  /**
   * Asks every other worker running now; resolves with the answers of those that answered
   * (a worker that stops or restarts meanwhile is not waited for).
   */
  ask(question: Question): Promise<Answer[]>;
  /** How this worker answers the others' questions; the last one given answers. */
  answerWith(answer: (question: Question) => Promise<Answer>): void;
}

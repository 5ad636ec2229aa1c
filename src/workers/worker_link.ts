/**
 * A worker's side of `--workers N`: what the primary told it at start, its signals (stop,
 * reload), the questions other workers ask it, and the way out for its log lines, its port and
 * its exit code.
 * @module
 */
import type { Answer, FromWorker, Question, ToWorker } from "./messages.ts";
import type { Peers } from "./peers.ts";

/** The scope a worker runs in, as far as the link uses it (`self` in a Web Worker). */
export interface WorkerScope {
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
  addEventListener(type: "message", listener: (event: MessageEvent<ToWorker>) => void): void;
}

/** What the primary told the worker at start. */
export interface WorkerStart {
  readonly worker: number;
  readonly workers: number;
  readonly port: number;
}

/** Whether this code runs in a Web Worker. */
export function inWorker(): boolean {
  return "WorkerGlobalScope" in globalThis;
}

/** A worker's line to the primary, and through it to the other workers. */
export class WorkerLink implements Peers {
  readonly #scope: WorkerScope;
  readonly #start = Promise.withResolvers<WorkerStart>();
  readonly #asked = new Map<number, (answers: Answer[]) => void>();
  #nextQuestion = 1;
  #answer: (question: Question) => Promise<Answer> = () => Promise.resolve({ worker: this.worker });
  #onStop: (signal: string) => void = () => {};
  #onReload: () => void = () => {};
  #started: WorkerStart | undefined;

  constructor(scope: WorkerScope) {
    this.#scope = scope;
    scope.addEventListener("message", (event) => this.#received(event.data));
  }

  /** Resolves with the primary's first message. */
  started(): Promise<WorkerStart> {
    return this.#start.promise;
  }

  get worker(): number {
    return this.#started?.worker ?? 0;
  }

  get workers(): number {
    return this.#started?.workers ?? 1;
  }

  /** What to do when the primary passes on a stopping signal. */
  onStop(stop: (signal: string) => void): void {
    this.#onStop = stop;
  }

  /** What to do when the primary passes on a SIGHUP. */
  onReload(reload: () => void): void {
    this.#onReload = reload;
  }

  ask(question: Question): Promise<Answer[]> {
    const id = this.#nextQuestion++;
    const answered = Promise.withResolvers<Answer[]>();
    this.#asked.set(id, answered.resolve);
    this.#scope.postMessage({ kind: "ask", id, question });
    return answered.promise;
  }

  answerWith(answer: (question: Question) => Promise<Answer>): void {
    this.#answer = answer;
  }

  /** Tells the primary the worker listens on `port`. */
  listening(port: number): void {
    this.#scope.postMessage({ kind: "listening", port });
  }

  /** Hands whole log lines to the primary, which writes them; `bytes` is not used after. */
  writeLog(bytes: Uint8Array): number {
    const copy = bytes.slice();
    this.#scope.postMessage({ kind: "log", bytes: copy }, [copy.buffer]);
    return bytes.length;
  }

  /** Tells the primary the worker exits with `code`; the last message it sends. */
  exiting(code: number): void {
    this.#scope.postMessage({ kind: "exit", code });
  }

  #received(message: ToWorker): void {
    switch (message.kind) {
      case "start":
        this.#started = message;
        this.#start.resolve(message);
        break;
      case "stop":
        this.#onStop(message.signal);
        break;
      case "reload":
        this.#onReload();
        break;
      case "question":
        void this.#answer(message.question).then(
          (answer) => this.#scope.postMessage({ kind: "answer", id: message.id, answer }),
          () =>
            this.#scope.postMessage({
              kind: "answer",
              id: message.id,
              answer: { worker: this.worker },
            }),
        );
        break;
      case "answers":
        this.#asked.get(message.id)?.(message.answers as Answer[]);
        this.#asked.delete(message.id);
        break;
    }
  }
}

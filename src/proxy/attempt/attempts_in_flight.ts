/**
 * The attempts whose backend requests are still open, so that a gateway whose shutdown grace
 * period has ended can end each one on purpose (a stream with an SSE error event that says so,
 * a request still waiting for its answer with a 503) rather than leave every connection to be
 * cut when the process exits.
 * @module
 */

/** Why an attempt was ended: the gateway is stopping and its grace period is over. */
export class GatewayStopping extends Error {
  constructor() {
    super("The gateway is stopping");
    this.name = "GatewayStopping";
  }
}

/** The abort controllers of the attempts in flight. */
export class AttemptsInFlight {
  readonly #controllers = new Set<AbortController>();

  /** How many attempts are in flight. */
  get size(): number {
    return this.#controllers.size;
  }

  /** Tracks an attempt's controller until the returned disposable is disposed. */
  track(controller: AbortController): Disposable {
    this.#controllers.add(controller);
    return new Tracked(this.#controllers, controller);
  }

  /** Aborts every attempt in flight with {@linkcode GatewayStopping}; how many there were. */
  stopAll(): number {
    const controllers = [...this.#controllers];
    this.#controllers.clear();
    const reason = new GatewayStopping();
    for (const controller of controllers) controller.abort(reason);
    return controllers.length;
  }
}

class Tracked implements Disposable {
  readonly #controllers: Set<AbortController>;
  readonly #controller: AbortController;

  constructor(controllers: Set<AbortController>, controller: AbortController) {
    this.#controllers = controllers;
    this.#controller = controller;
  }

  [Symbol.dispose](): void {
    this.#controllers.delete(this.#controller);
  }
}

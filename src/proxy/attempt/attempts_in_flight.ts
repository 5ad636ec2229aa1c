/**
 * The attempts whose backend requests are still open, so that a gateway whose shutdown grace
 * period has ended can end each one on purpose (a stream with an SSE error event that says so,
 * a request still waiting for its answer with a 503) rather than leave every connection to be
 * cut when the process exits.
 * @module
 */
import { LinkedList } from "../../lib/linked_list.ts";

/** Why an attempt was ended: the gateway is stopping and its grace period is over. */
export class GatewayStopping extends Error {
  constructor() {
    super("The gateway is stopping");
    this.name = "GatewayStopping";
  }
}

/** The abort controllers of the attempts in flight. */
export class AttemptsInFlight {
  readonly #controllers = new LinkedList<AbortController>();

  /** How many attempts are in flight. */
  get size(): number {
    return this.#controllers.size;
  }

  /** Tracks an attempt's controller until the returned disposable is disposed. */
  track(controller: AbortController): Disposable {
    return this.#controllers.add(controller);
  }

  /** Aborts every attempt in flight with {@linkcode GatewayStopping}; how many there were. */
  stopAll(): number {
    const controllers = [...this.#controllers];
    const reason = new GatewayStopping();
    for (const controller of controllers) controller.abort(reason);
    return controllers.length;
  }
}

/**
 * An instance claimed for one attempt. Claiming takes the instance's circuit-breaker slot,
 * counts the request against its limits and its requests in flight; disposing of the lease
 * gives all of it back — the breaker slot (as neutral, unless the attempt was judged), the
 * count in flight, the wake-up of the requests queued for the instance, and whatever the
 * attempt deferred — exactly once, whatever threw in between.
 *
 * Take it with `using`. An answer whose body goes on to the client takes the lease with it
 * ({@linkcode UpstreamLease.move}); the end of the relay disposes of it.
 * @module
 */
import {
  admit,
  type LimitedClient,
  type LimitObserver,
  type Metered,
} from "../../limiter/admission.ts";
import {
  type BackendFailure,
  reportFailure,
  reportNeutral,
  reportSuccess,
} from "../../registry/instance_reports.ts";
import type { Upstream } from "../../registry/snapshot.ts";

export type { BackendFailure } from "../../registry/instance_reports.ts";

/** Shared by a lease and the leases it moves to: the verdict is given once for all of them. */
interface Judgement {
  given: boolean;
}

/** An instance claimed for one attempt; see the module doc. */
export class UpstreamLease implements Disposable {
  readonly upstream: Upstream;
  /** ms the instance's limits ask the request to wait before it is sent. */
  readonly delay: number;
  /** The instance limit with the least budget left, if the instance has limits. */
  readonly metered: Metered | undefined;
  readonly #now: () => number;
  readonly #judgement: Judgement;
  #settlement: DisposableStack;

  private constructor(
    upstream: Upstream,
    claim: { delay: number; metered: Metered | undefined; now: () => number },
    judgement: Judgement,
    settlement: DisposableStack,
  ) {
    this.upstream = upstream;
    this.delay = claim.delay;
    this.metered = claim.metered;
    this.#now = claim.now;
    this.#judgement = judgement;
    this.#settlement = settlement;
  }

  /**
   * Claims `upstream` for a request of `client`: undefined when its breaker or its limits
   * refuse after all (which selection rules out within one tick).
   */
  static claim(
    upstream: Upstream,
    options: {
      readonly client: LimitedClient;
      readonly now: () => number;
      readonly observer: LimitObserver;
    },
  ): UpstreamLease | undefined {
    const now = options.now();
    if (upstream.breaker && !upstream.breaker.admit(now)) return undefined;
    let delay = 0;
    let metered: Metered | undefined;
    if (upstream.limits.length > 0) {
      const admission = admit(upstream.limits, options.client, now, options.observer);
      if (!admission.allowed) {
        upstream.breaker?.onNeutral(now);
        return undefined;
      }
      delay = admission.delay;
      metered = admission.tightest;
    }
    const state = upstream.state;
    state.active++;
    state.requests++;
    const judgement: Judgement = { given: false };
    const settlement = new DisposableStack();
    const lease = new UpstreamLease(
      upstream,
      { delay, metered, now: options.now },
      judgement,
      settlement,
    );
    settlement.defer(() => {
      state.active--;
      for (const queue of upstream.queues) queue.wake();
    });
    // Runs before the count is given back: a breaker slot never outlives its request.
    settlement.defer(() => lease.neutral());
    return lease;
  }

  /** Whether the lease has been settled, or moved to another. */
  get disposed(): boolean {
    return this.#settlement.disposed;
  }

  /** Runs `cleanup` when the lease settles, before its counts are given back. */
  defer(cleanup: () => void): void {
    this.#settlement.defer(cleanup);
  }

  /** The backend answered well: its run of failures ends, and its breaker hears a success. */
  succeeded(): void {
    if (this.#judge()) reportSuccess(this.upstream, this.#now());
  }

  /** The backend failed: counted, kept as its last error, told to its breaker and outlier record. */
  failed(failure: BackendFailure): void {
    if (this.#judge()) reportFailure(this.upstream, failure, this.#now());
  }

  /** The attempt says nothing of the backend: its breaker slot is freed without a verdict. */
  neutral(): void {
    if (this.#judge()) reportNeutral(this.upstream, this.#now());
  }

  /** A lease that takes over this one's settlement; this one is left with nothing to settle. */
  move(): UpstreamLease {
    return new UpstreamLease(
      this.upstream,
      { delay: this.delay, metered: this.metered, now: this.#now },
      this.#judgement,
      this.#settlement.move(),
    );
  }

  /** Settles: see the module doc. Later calls do nothing. */
  [Symbol.dispose](): void {
    this.#settlement.dispose();
  }

  /** True the first time a verdict is given, false after. */
  #judge(): boolean {
    if (this.#judgement.given) return false;
    this.#judgement.given = true;
    return true;
  }
}

/**
 * An instance claimed for one attempt. Claiming takes the instance's circuit-breaker slot,
 * counts the request against its limits and its requests and tokens in flight, and against its
 * client's concurrency caps; disposing of the lease gives all of it back — the breaker slot (as
 * neutral, unless the attempt was judged), the counts in flight, the wake-up of the requests
 * queued for the instance or for the client, and whatever the attempt deferred — exactly once,
 * whatever threw in between.
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
  hasTokenRoom,
  type MeteredTokens,
  reserveTokens,
  type TokenEstimate,
  type TokenReservation,
} from "../../limiter/token_limits.ts";
import {
  type BackendFailure,
  reportFailure,
  reportNeutral,
  reportSuccess,
} from "../../registry/instance_reports.ts";
import type { Upstream } from "../../registry/snapshot.ts";
import type { ClientConcurrency } from "../../limiter/client_concurrency.ts";

export type { BackendFailure } from "../../registry/instance_reports.ts";

/** One claim of an instance, shared by a lease and the leases it moves to. */
interface Claim {
  readonly upstream: Upstream;
  /** The request's estimated tokens, counted in flight on the instance while claimed. */
  readonly tokens: number;
  readonly now: () => number;
  /** A verdict was given: the breaker and outlier record heard it. */
  judged: boolean;
  settled: boolean;
  /** What settles with the claim, before its counts are given back; the last added first. */
  readonly cleanups: Disposable[];
  /** The tokens reserved in the instance's token limits. */
  readonly reservation: TokenReservation | undefined;
}

/** An instance claimed for one attempt; see the module doc. */
export class UpstreamLease implements Disposable {
  readonly upstream: Upstream;
  /** ms the instance's limits ask the request to wait before it is sent. */
  readonly delay: number;
  /** The instance limit with the least budget left, if the instance has limits. */
  readonly metered: Metered | undefined;
  /** The instance token limit with the fewest tokens left, if the instance has token limits. */
  readonly meteredTokens: MeteredTokens | undefined;
  readonly #claim: Claim;
  /** This lease, not one it moved to, settles the claim. */
  #owns = true;

  private constructor(
    claim: Claim,
    delay: number,
    metered: Metered | undefined,
    meteredTokens: MeteredTokens | undefined,
  ) {
    this.upstream = claim.upstream;
    this.delay = delay;
    this.metered = metered;
    this.meteredTokens = meteredTokens;
    this.#claim = claim;
  }

  /**
   * The tokens reserved in the instance's token limits, taken from the claim for the request
   * the instance answered: they settle with its usage when it ends, not with the claim.
   */
  answeredTokens(): TokenReservation | undefined {
    return this.#claim.reservation?.move();
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
      /** The request's estimated tokens (prompt and answer). @default 0 */
      readonly tokens?: number;
      /** The same, as the instance's token limits reserve it; needed when it has any. */
      readonly tokenEstimate?: () => TokenEstimate;
      /** The caps on the client's requests in flight, counted while claimed. */
      readonly concurrency?: ClientConcurrency | undefined;
    },
  ): UpstreamLease | undefined {
    const now = options.now();
    if (upstream.breaker && !upstream.breaker.admit(now)) return undefined;
    let delay = 0;
    let metered: Metered | undefined;
    let reserved: { reservation: TokenReservation; tightest: MeteredTokens } | undefined;
    if (upstream.tokenLimits.length > 0 && options.tokenEstimate) {
      const estimate = options.tokenEstimate();
      if (!hasTokenRoom(upstream.tokenLimits, options.client, estimate, now)) {
        upstream.breaker?.onNeutral(now);
        return undefined;
      }
    }
    if (upstream.limits.length > 0) {
      const admission = admit(upstream.limits, options.client, now, options.observer);
      if (!admission.allowed) {
        upstream.breaker?.onNeutral(now);
        return undefined;
      }
      delay = admission.delay;
      metered = admission.tightest;
    }
    if (upstream.tokenLimits.length > 0 && options.tokenEstimate) {
      const tokens = reserveTokens(
        upstream.tokenLimits,
        options.client,
        options.tokenEstimate(),
        options.now,
      );
      // Room was checked above, at the same time: the reservation cannot be refused.
      if (tokens.allowed) reserved = tokens;
    }
    const tokens = options.tokens ?? 0;
    upstream.state.active++;
    upstream.state.activeTokens += tokens;
    upstream.state.requests++;
    const claim: Claim = {
      upstream,
      tokens,
      now: options.now,
      judged: false,
      settled: false,
      // Tokens not kept for an answer go back when the claim settles; the client's place under
      // its concurrency caps with the cleanups, before the instance's wake-ups, which then find
      // it free.
      cleanups: [
        ...(reserved ? [reserved.reservation] : []),
        ...(options.concurrency ? [options.concurrency.claim()] : []),
      ],
      reservation: reserved?.reservation,
    };
    return new UpstreamLease(claim, delay, metered, reserved?.tightest);
  }

  /** Whether the lease has been settled, or moved to another. */
  get disposed(): boolean {
    return !this.#owns;
  }

  /** Disposes of `cleanup` when the lease settles, before its counts are given back. */
  use(cleanup: Disposable): void {
    if (!this.#owns) throw new ReferenceError("The lease was already settled or moved");
    this.#claim.cleanups.push(cleanup);
  }

  /** The backend answered well: its run of failures ends, and its breaker hears a success. */
  succeeded(): void {
    if (judge(this.#claim)) reportSuccess(this.upstream, this.#claim.now());
  }

  /** The backend failed: counted, kept as its last error, told to its breaker and outlier record. */
  failed(failure: BackendFailure): void {
    if (judge(this.#claim)) reportFailure(this.upstream, failure, this.#claim.now());
  }

  /** The attempt says nothing of the backend: its breaker slot is freed without a verdict. */
  neutral(): void {
    if (judge(this.#claim)) reportNeutral(this.upstream, this.#claim.now());
  }

  /** A lease that takes over this one's settlement; this one is left with nothing to settle. */
  move(): UpstreamLease {
    if (!this.#owns) throw new ReferenceError("The lease was already settled or moved");
    this.#owns = false;
    return new UpstreamLease(this.#claim, this.delay, this.metered, this.meteredTokens);
  }

  /** Settles: see the module doc. Later calls, and calls on a lease moved on, do nothing. */
  [Symbol.dispose](): void {
    if (!this.#owns) return;
    this.#owns = false;
    settle(this.#claim);
  }
}

/** True the first time a verdict is given, false after. */
function judge(claim: Claim): boolean {
  if (claim.judged) return false;
  claim.judged = true;
  return true;
}

/**
 * Gives everything back once: the cleanups (all of them, even when one throws), then the breaker
 * slot if no verdict freed it, then the count in flight, waking the requests queued for the
 * instance. Rethrows the first error of a cleanup once all is given back.
 */
function settle(claim: Claim): void {
  if (claim.settled) return;
  claim.settled = true;
  let failure: { readonly error: unknown } | undefined;
  const { cleanups, upstream } = claim;
  for (let index = cleanups.length - 1; index >= 0; index--) {
    try {
      cleanups[index]![Symbol.dispose]();
    } catch (error) {
      failure ??= { error };
    }
  }
  if (judge(claim)) reportNeutral(upstream, claim.now());
  upstream.state.active--;
  upstream.state.activeTokens -= claim.tokens;
  for (const queue of upstream.queues) queue.wake();
  if (failure) throw failure.error;
}

/**
 * A circuit breaker for one instance, as a plain state machine over times passed in by the caller
 * (milliseconds); it never reads the clock and never schedules anything.
 *
 * - Closed: every request passes. A run of `failureThreshold` failures in a row opens it; a
 *   success ends the run.
 * - Open: every request is refused. Once `timeout` milliseconds have gone by since it opened it is
 *   half-open; this is worked out from the time of each call, so no timer is needed.
 * - Half-open: at most `halfOpenMaxProbes` requests, the probes, are let through at once and the
 *   others are refused. `successThreshold` probe successes close it; a single probe failure opens
 *   it again for a fresh `timeout`. A probe that ends without telling anything (the client left,
 *   the gateway rejected it itself) only frees its slot.
 *
 * Reports are expected once per admitted request, but may arrive late: a report while open is
 * ignored, a report while half-open counts only when a probe is in flight, and a report while
 * closed never touches the probe counters, so a late probe success cannot close a breaker that
 * another probe reopened, and no counter goes below zero. Reports carry no identity, so a late
 * report that arrives while a later probe is in flight is taken for that probe's.
 *
 * A breaker that is turned off lets everything through, counts nothing and reads as closed.
 * @module
 */

/** How a breaker behaves; read again on every call, so it can change at any time. */
export interface BreakerSettings {
  readonly enabled: boolean;
  /** Failures in a row, while closed, that open the breaker. */
  readonly failureThreshold: number;
  /** Milliseconds the breaker stays open before it lets probes through. */
  readonly timeout: number;
  /** Probe successes, while half-open, that close the breaker. */
  readonly successThreshold: number;
  /** Requests let through at once while half-open. */
  readonly halfOpenMaxProbes: number;
}

/** The states of a breaker. */
export const BREAKER_STATUSES = ["closed", "open", "half-open"] as const;

/** Where a breaker stands. */
export type BreakerStatus = (typeof BREAKER_STATUSES)[number];

/** Called after the breaker changed status, with the time the change took effect. */
export type TransitionListener = (from: BreakerStatus, to: BreakerStatus, at: number) => void;

/** Optional hooks of a breaker. */
export interface BreakerOptions {
  /** Told of every change of status, in order, for logs and metrics. */
  readonly onTransition?: TransitionListener;
}

/** A breaker as a status endpoint shows it; plain JSON. */
export interface BreakerView {
  readonly enabled: boolean;
  readonly status: BreakerStatus;
  /** Failures in a row while closed. */
  readonly consecutiveFailures: number;
  /** Probe successes in the current half-open period. */
  readonly halfOpenSuccesses: number;
  /** Probes let through and not reported yet. */
  readonly probesInFlight: number;
  /** When the breaker last opened, while it is open or half-open; null while closed. */
  readonly openedAt: string | null;
  /** When an open breaker lets probes through; null unless open. */
  readonly retryAt: string | null;
  /** How many times the breaker has opened since it was made. */
  readonly opened: number;
  /** When the status last changed; null if it never did. */
  readonly lastTransitionAt: string | null;
}

/** Throws a RangeError when a setting would leave the breaker unable to work. */
function validateSettings(settings: BreakerSettings): void {
  const counts = ["failureThreshold", "successThreshold", "halfOpenMaxProbes"] as const;
  for (const name of counts) {
    const value = settings[name];
    if (!Number.isInteger(value) || value < 1) {
      throw new RangeError(`${name} must be a positive integer, got ${value}`);
    }
  }
  if (!Number.isFinite(settings.timeout) || settings.timeout < 0) {
    throw new RangeError(`timeout must be a non-negative number, got ${settings.timeout}`);
  }
}

function isoOrNull(time: number | null): string | null {
  return time === null ? null : new Date(time).toISOString();
}

/**
 * The circuit breaker of one instance. Ask {@link CircuitBreaker.admit} before each request and
 * report how every admitted request ended with exactly one of {@link CircuitBreaker.onSuccess},
 * {@link CircuitBreaker.onFailure} or {@link CircuitBreaker.onNeutral}; which outcomes count as
 * failures is the caller's choice.
 */
export class CircuitBreaker {
  #settings: BreakerSettings;
  readonly #onTransition: TransitionListener | undefined;
  /** The status as last stored; an open breaker whose timeout has run out is half-open. */
  #stored: BreakerStatus = "closed";
  #consecutiveFailures = 0;
  #halfOpenSuccesses = 0;
  #probesInFlight = 0;
  #openedAt: number | null = null;
  #timesOpened = 0;
  #lastTransitionAt: number | null = null;

  /** Throws a RangeError when a setting is out of range. */
  constructor(settings: BreakerSettings, options: BreakerOptions = {}) {
    validateSettings(settings);
    this.#settings = settings;
    this.#onTransition = options.onTransition;
  }

  /** The settings in use. */
  get settings(): BreakerSettings {
    return this.#settings;
  }

  /**
   * Uses new settings from now on, keeping the status and counters; a new timeout applies to an
   * open breaker at once. Turning the breaker off forgets its state, without telling the
   * transition listener, so that it starts closed and clean if it is turned on again. Throws a
   * RangeError when a setting is out of range.
   */
  configure(settings: BreakerSettings): void {
    validateSettings(settings);
    if (this.#settings.enabled && !settings.enabled) {
      this.#stored = "closed";
      this.#clear();
    }
    this.#settings = settings;
  }

  /** The status at `now`. */
  status(now: number): BreakerStatus {
    if (!this.#settings.enabled) return "closed";
    if (this.#stored === "open" && now >= this.#retryAt()) return "half-open";
    return this.#stored;
  }

  /** Whether {@link CircuitBreaker.admit} would let a request through at `now`; changes nothing. */
  canPass(now: number): boolean {
    switch (this.status(now)) {
      case "closed":
        return true;
      case "open":
        return false;
      case "half-open":
        return this.#probesInFlight < this.#settings.halfOpenMaxProbes;
    }
  }

  /**
   * Lets a request through or refuses it. While half-open a request let through is a probe and
   * holds a slot until it is reported.
   */
  admit(now: number): boolean {
    if (!this.#settings.enabled) return true;
    this.#advance(now);
    if (!this.canPass(now)) return false;
    if (this.#stored === "half-open") this.#probesInFlight++;
    return true;
  }

  /** Reports an admitted request that succeeded. */
  onSuccess(now: number): void {
    if (!this.#settings.enabled) return;
    this.#advance(now);
    if (this.#stored === "closed") {
      this.#consecutiveFailures = 0;
      return;
    }
    if (!this.#releaseProbe()) return;
    this.#halfOpenSuccesses++;
    if (this.#halfOpenSuccesses >= this.#settings.successThreshold) this.#close(now);
  }

  /** Reports an admitted request that failed. */
  onFailure(now: number): void {
    if (!this.#settings.enabled) return;
    this.#advance(now);
    if (this.#stored === "closed") {
      this.#consecutiveFailures++;
      if (this.#consecutiveFailures >= this.#settings.failureThreshold) this.#open(now);
      return;
    }
    if (this.#releaseProbe()) this.#open(now);
  }

  /** Reports an admitted request that ended without telling whether the instance works. */
  onNeutral(now: number): void {
    if (!this.#settings.enabled) return;
    this.#advance(now);
    this.#releaseProbe();
  }

  /** The breaker at `now`, for a status endpoint. */
  snapshot(now: number): BreakerView {
    const status = this.status(now);
    return {
      enabled: this.#settings.enabled,
      status,
      consecutiveFailures: this.#consecutiveFailures,
      halfOpenSuccesses: this.#halfOpenSuccesses,
      probesInFlight: this.#probesInFlight,
      openedAt: isoOrNull(this.#openedAt),
      retryAt: status === "open" ? isoOrNull(this.#retryAt()) : null,
      opened: this.#timesOpened,
      lastTransitionAt: isoOrNull(this.#lastTransitionAt),
    };
  }

  /** Milliseconds until an open breaker lets probes through; 0 unless open. */
  msUntilRetry(now: number): number {
    return this.status(now) === "open" ? this.#retryAt() - now : 0;
  }

  /**
   * Closes the breaker and clears its counters, except the number of times it opened. A breaker
   * that was not closed tells the transition listener.
   */
  reset(now: number): void {
    this.#advance(now);
    if (this.#stored === "closed") {
      this.#clear();
      return;
    }
    this.#close(now);
  }

  #retryAt(): number {
    return (this.#openedAt ?? 0) + this.#settings.timeout;
  }

  /** Stores the half-open status of an open breaker whose timeout has run out. */
  #advance(now: number): void {
    if (this.#stored !== "open") return;
    const retryAt = this.#retryAt();
    if (now >= retryAt) this.#moveTo("half-open", retryAt);
  }

  /** Frees a probe slot; false when no probe was in flight, so the report is not a probe's. */
  #releaseProbe(): boolean {
    if (this.#stored !== "half-open" || this.#probesInFlight === 0) return false;
    this.#probesInFlight--;
    return true;
  }

  #open(now: number): void {
    this.#consecutiveFailures = 0;
    this.#halfOpenSuccesses = 0;
    this.#probesInFlight = 0;
    this.#openedAt = now;
    this.#timesOpened++;
    this.#moveTo("open", now);
  }

  #close(now: number): void {
    this.#clear();
    this.#moveTo("closed", now);
  }

  /** Clears the counters and the opening time, leaving the status alone. */
  #clear(): void {
    this.#consecutiveFailures = 0;
    this.#halfOpenSuccesses = 0;
    this.#probesInFlight = 0;
    this.#openedAt = null;
  }

  #moveTo(to: BreakerStatus, at: number): void {
    const from = this.#stored;
    this.#stored = to;
    this.#lastTransitionAt = at;
    this.#onTransition?.(from, to, at);
  }
}

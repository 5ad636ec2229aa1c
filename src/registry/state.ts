/** The most recent failure of an instance. */
export interface LastError {
  readonly message: string;
  /** ISO time of the failure. */
  readonly at: string;
}

/** Live counters of one instance; mutated only by the proxy as requests start and settle. */
export interface InstanceState {
  /** Requests in flight. */
  active: number;
  /** Requests sent since start. */
  requests: number;
  /** Requests that failed (transport error, timeout or 5xx) since start. */
  failures: number;
  lastError: LastError | null;
}

/** A fresh, idle instance state. */
export function newInstanceState(): InstanceState {
  return { active: 0, requests: 0, failures: 0, lastError: null };
}

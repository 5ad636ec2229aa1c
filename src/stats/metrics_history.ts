/**
 * The last hour of client requests for the console's live charts and
 * `GET /admin/metrics/history`: one {@linkcode HistoryRing} of every request, and one per service
 * made at its first request, each fed as requests finish and as the queues are sampled.
 * @module
 */
import type { Snapshot } from "../registry/snapshot.ts";
import { SERVICE_TYPES, type ServiceType } from "../services.ts";
import { HistoryRing, type HistoryWindow, type SettledRequest } from "./history_ring.ts";

/** A finished request, and the service it was for. */
export interface ServiceRequest extends SettledRequest {
  readonly service: ServiceType;
}

/** The hour of every request, and of each service's. */
export class MetricsHistory {
  readonly #now: () => number;
  readonly #all: HistoryRing;
  readonly #services = new Map<ServiceType, HistoryRing>();

  constructor(now: () => number) {
    this.#now = now;
    this.#all = new HistoryRing(now());
  }

  /** Counts a request that just finished. */
  finished(request: ServiceRequest): void {
    const now = this.#now();
    this.#all.add(now, request);
    let ring = this.#services.get(request.service);
    if (ring === undefined) this.#services.set(request.service, ring = new HistoryRing(now));
    ring.add(now, request);
  }

  /** Takes a sample of how many requests wait, per service; services not named wait none. */
  sampleQueues(waiting: ReadonlyMap<ServiceType, number>): void {
    const now = this.#now();
    let total = 0;
    for (const count of waiting.values()) total += count;
    this.#all.sampleQueue(now, total);
    for (const [service, ring] of this.#services) ring.sampleQueue(now, waiting.get(service) ?? 0);
  }

  /** The last hour of every request, or of one service's. */
  read(service?: ServiceType): HistoryWindow {
    const now = this.#now();
    const ring = service === undefined
      ? this.#all
      : this.#services.get(service) ?? new HistoryRing(now);
    return ring.read(now);
  }
}

/** How many requests wait in each service's queues now. */
export function waitingPerService(snapshot: Snapshot): Map<ServiceType, number> {
  const waiting = new Map<ServiceType, number>();
  for (const type of SERVICE_TYPES) {
    const queues = new Set(
      snapshot.services[type].upstreams.flatMap((upstream) => upstream.queues),
    );
    let count = 0;
    for (const queue of queues) count += queue.length;
    if (count > 0) waiting.set(type, count);
  }
  return waiting;
}

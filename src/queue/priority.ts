/**
 * Priority classes of waiting requests: a key's own class, and the `x-priority` header that may
 * lower it (any key) or choose any class (a key with `priority-header: true`).
 * @module
 */
import { GatewayError } from "../errors.ts";

/** The classes, most urgent first: a waiting request of one is served before any of the next. */
export const PRIORITY_CLASSES = ["high", "normal", "low"] as const;

/** A priority class. */
export type PriorityClass = typeof PRIORITY_CLASSES[number];

/** The request header that asks for a class. */
export const PRIORITY_HEADER = "x-priority";

/** The lane of requests sent without a credential: they share one. */
export const ANONYMOUS_LANE = "anonymous";

/** Where a request waits: its class, and the lane (client key) it shares fairly with others. */
export interface QueuePlace {
  readonly priority: PriorityClass;
  /** The key's id, or `anonymous`. */
  readonly lane: string;
}

/** What a credential says about the classes its requests may take. */
export interface PriorityGrant {
  /** The credential's id, naming its lane. */
  readonly id: string;
  /** Its class when a request names none. */
  readonly priority: PriorityClass;
  /** Whether `x-priority` may choose any class, not only one at or below `priority`. */
  readonly priorityHeader: boolean;
  /** The highest class `x-priority` may choose even so: its team's. @default any */
  readonly ceiling?: PriorityClass | undefined;
}

/** Rank of a class: 0 is served first. */
export function classRank(priority: PriorityClass): number {
  return PRIORITY_CLASSES.indexOf(priority);
}

const ANONYMOUS: PriorityGrant = { id: ANONYMOUS_LANE, priority: "normal", priorityHeader: false };

/** Places of requests without the header, per credential: made once, not per request. */
const defaultPlaces = new WeakMap<PriorityGrant, QueuePlace>();

/**
 * The place a request waits in: its credential's class (`normal` without one), or the class
 * its `x-priority` header names. Without `priority-header: true` the header may only lower the
 * class. Throws a `GatewayError`: 400 for an unknown class, 403 for a class above the grant.
 */
export function queuePlace(grant: PriorityGrant | undefined, headers: Headers): QueuePlace {
  const granted = grant ?? ANONYMOUS;
  const asked = headers.get(PRIORITY_HEADER);
  if (asked === null) {
    let place = defaultPlaces.get(granted);
    if (place === undefined) {
      defaultPlaces.set(granted, place = { priority: granted.priority, lane: granted.id });
    }
    return place;
  }
  const priority = asked.trim().toLowerCase();
  if (!isPriorityClass(priority)) {
    throw new GatewayError(
      400,
      "invalid_priority",
      `The ${PRIORITY_HEADER} header must be one of ${PRIORITY_CLASSES.join(", ")}, got "${asked}"`,
      { type: "invalid_request_error" },
    );
  }
  if (!granted.priorityHeader && classRank(priority) < classRank(granted.priority)) {
    throw new GatewayError(
      403,
      "permission_denied",
      `The credential "${granted.id}" may not raise its requests' priority above ` +
        `"${granted.priority}" (${PRIORITY_HEADER}: ${priority})`,
    );
  }
  const ceiling = granted.ceiling;
  if (ceiling !== undefined && classRank(priority) < classRank(ceiling)) {
    throw new GatewayError(
      403,
      "permission_denied",
      `The credential "${granted.id}" may not raise its requests' priority above its team's ` +
        `"${ceiling}" (${PRIORITY_HEADER}: ${priority})`,
    );
  }
  return { priority, lane: granted.id };
}

function isPriorityClass(value: string): value is PriorityClass {
  return (PRIORITY_CLASSES as readonly string[]).includes(value);
}

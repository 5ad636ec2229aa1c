/**
 * The load-balancing strategies by the name used in `load-balance.type`.
 * @module
 */
import { fastest } from "./fastest.ts";
import { cost } from "./cost.ts";
import { consistentHash } from "./hash_ring.ts";
import { ipHash } from "./ip_hash.ts";
import { leastConnections } from "./least_connections.ts";
import { leastLoad } from "./least_load.ts";
import { random } from "./random.ts";
import { roundRobin } from "./round_robin.ts";
import type { StrategyFactory } from "./types.ts";

export type * from "./types.ts";

/** A strategy name, as in the config. */
export type StrategyName =
  | "random"
  | "round-robin"
  | "least-connections"
  | "least-load"
  | "ip-hash"
  | "consistent-hash"
  | "fastest"
  | "cost";

/** Each strategy's factory by its config name. */
export const STRATEGIES: Readonly<Record<StrategyName, StrategyFactory>> = {
  "random": random,
  "round-robin": roundRobin,
  "least-connections": leastConnections,
  "least-load": leastLoad,
  "ip-hash": ipHash,
  "consistent-hash": consistentHash,
  "fastest": fastest,
  "cost": cost,
};

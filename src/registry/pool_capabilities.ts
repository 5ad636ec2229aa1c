/**
 * What each instance of a model pool can take, worked out when the snapshot is built so that a
 * request reads one map entry per instance.
 * @module
 */
import type { Capabilities } from "../config/schema.ts";
import type { Upstream } from "./snapshot.ts";

/** The known capabilities of each of `upstreams`; undefined when none is known of any. */
export function poolCapabilities(
  upstreams: readonly Upstream[],
): ReadonlyMap<Upstream, Capabilities> | undefined {
  const known = new Map<Upstream, Capabilities>();
  for (const upstream of upstreams) {
    const capabilities = upstream.capabilities;
    if (capabilities !== undefined && Object.keys(capabilities).length > 0) {
      known.set(upstream, capabilities);
    }
  }
  return known.size > 0 ? known : undefined;
}

/**
 * What each instance of a model pool can take, worked out when the snapshot is built so that a
 * request reads one map entry per instance: what its backend tells of the model, overridden
 * key by key by what its config says.
 * @module
 */
import type { Capabilities } from "../config/schema.ts";
import type { Upstream } from "./snapshot.ts";

/**
 * The known capabilities of each of `upstreams` serving `model`; undefined when none is known
 * of any.
 */
export function poolCapabilities(
  model: string,
  upstreams: readonly Upstream[],
): ReadonlyMap<Upstream, Capabilities> | undefined {
  const known = new Map<Upstream, Capabilities>();
  for (const upstream of upstreams) {
    const learned = upstream.backend.capabilities?.get(model);
    const capabilities = { ...learned, ...upstream.capabilities };
    if (Object.keys(capabilities).length > 0) known.set(upstream, capabilities);
  }
  return known.size > 0 ? known : undefined;
}

/**
 * The model groups of one service at runtime: each group with the members the service serves
 * and their pools, resolved when the snapshot is built.
 * @module
 */
import type { Weights } from "../balancer/pareto.ts";
import { typicalRequestPrice } from "../balancer/price.ts";
import type { ModelGroupsConfig } from "../config/schema.ts";
import type { ModelPool } from "./snapshot.ts";

/** One model of a group, as a service serves it. */
export interface GroupMember {
  readonly model: string;
  /** How good its answers are, 0 to 1. */
  readonly quality: number;
  readonly pool: ModelPool;
  /** The typical request's price the group sets for it, in place of its instances'. */
  readonly price: number | undefined;
}

/** A name that stands for several models. */
export interface ModelGroup {
  readonly name: string;
  /** Its members the service serves, in config order. */
  readonly members: readonly GroupMember[];
  readonly weights: Weights;
}

/**
 * The groups of a service that has the pools `resolve` finds: each with the members it
 * serves; a group with none is left out.
 */
export function serviceGroups(
  groups: ModelGroupsConfig,
  resolve: (model: string) => ModelPool | undefined,
): ReadonlyMap<string, ModelGroup> {
  const served = new Map<string, ModelGroup>();
  for (const [name, group] of Object.entries(groups)) {
    const members = group.members.flatMap((member): GroupMember[] => {
      const pool = resolve(member.model);
      if (pool === undefined) return [];
      const price = member.price === undefined ? undefined : typicalRequestPrice(member.price);
      return [{ model: member.model, quality: member.quality, pool, price }];
    });
    if (members.length > 0) served.set(name, { name, members, weights: group.weights });
  }
  return served;
}

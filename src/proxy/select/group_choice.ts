/**
 * Which model of a group serves a request: the members with an instance available now are
 * ranked by quality, cost and measured time to first token (see `balancer/pareto.ts`), and
 * tried in that order.
 * @module
 */
import { expectedLatency } from "../../balancer/cost.ts";
import { type Candidate, rankCandidates } from "../../balancer/pareto.ts";
import { typicalRequestPrice } from "../../balancer/price.ts";
import { isAvailable } from "../../registry/availability.ts";
import type { GroupMember, ModelGroup } from "../../registry/model_groups.ts";

/** A member as the ranking sees it. */
interface RankedMember extends Candidate {
  readonly member: GroupMember;
}

/**
 * `group`'s members in the order to try them at clock time `now`: best first among those with
 * an instance available. A member's cost is its price in the group, else the typical request's
 * price at its cheapest available instance; its latency is the lowest expected time to first
 * token among its available instances, unknown when none is measured. When no member has an
 * instance available, every member in config order, so that the request gets the reason.
 */
export function membersInOrder(group: ModelGroup, now: number): GroupMember[] {
  const candidates: RankedMember[] = [];
  for (const member of group.members) {
    let cheapest = Infinity;
    let fastest: number | undefined;
    for (const upstream of member.pool.upstreams) {
      if (!isAvailable(upstream, now)) continue;
      cheapest = Math.min(cheapest, typicalRequestPrice(upstream.price));
      const latency = expectedLatency(upstream, now);
      if (latency !== undefined && (fastest === undefined || latency < fastest)) {
        fastest = latency;
      }
    }
    if (cheapest === Infinity) continue;
    candidates.push({
      member,
      quality: member.quality,
      cost: member.price ?? cheapest,
      latency: fastest,
    });
  }
  if (candidates.length === 0) return [...group.members];
  return rankCandidates(candidates, group.weights).map(({ member }) => member);
}

/** The response header naming the model of a group that served the request. */
export const SERVED_MODEL_HEADER = "x-switchyard-model";

import assert from "node:assert/strict";
import { MEASUREMENT_STALE_AFTER } from "../../balancer/cost.ts";
import { parseConfig } from "../../config/load.ts";
import { Registry } from "../../registry/registry.ts";
import type { ModelGroup } from "../../registry/model_groups.ts";
import { membersInOrder } from "./group_choice.ts";

/** Models `a` (dear), `b` (cheap) and `c` (cheaper by the group's price), equally good. */
const CONFIG = `model:
  health-check: { enabled: false }
  services:
    chat:
      instances:
        - { name: a, base-url: "http://127.0.0.1:1", price: { input: 3, output: 15 } }
        - { name: b, base-url: "http://127.0.0.1:2", price: { input: 1, output: 1 } }
        - { name: c, base-url: "http://127.0.0.1:3", price: { input: 1, output: 1 } }
model-groups:
  thrifty:
    members:
      - { model: a, quality: 0.9 }
      - { model: b, quality: 0.9 }
      - { model: c, quality: 0.9, price: { request: 0.0001 } }
    weights: { quality: 0, cost: 1, latency: 0 }
  quick:
    members:
      - { model: a, quality: 0.5 }
      - { model: b, quality: 0.5 }
    weights: { quality: 0, cost: 0, latency: 1 }
`;

function groups(): { thrifty: ModelGroup; quick: ModelGroup } {
  const { config } = parseConfig(CONFIG, { source: "test" });
  const registry = new Registry(config.model, { groups: config["model-groups"] });
  const chat = registry.snapshot.services.chat;
  return { thrifty: chat.groups.get("thrifty")!, quick: chat.groups.get("quick")! };
}

const order = (group: ModelGroup, now: number) =>
  membersInOrder(group, now).map(({ model }) => model);

Deno.test("members rank by their price in the group, else their cheapest instance's", () => {
  const { thrifty } = groups();
  assert.deepEqual(order(thrifty, 0), ["c", "b", "a"]);
});

Deno.test("a member with no instance available is left out; with none available, all in order", () => {
  const { thrifty } = groups();
  const [a, b, c] = thrifty.members.map((member) => member.pool.upstreams[0]!);
  c!.state.cooldownUntil = 1_000;
  assert.deepEqual(order(thrifty, 0), ["b", "a"]);
  assert.deepEqual(order(thrifty, 1_000), ["c", "b", "a"], "its cool-down over, it is back");
  a!.state.cooldownUntil = b!.state.cooldownUntil = c!.state.cooldownUntil = 5_000;
  assert.deepEqual(order(thrifty, 0), ["a", "b", "c"]);
});

Deno.test("live latency ranks members; a stale measurement counts as not measured", () => {
  const { quick } = groups();
  const [a, b] = quick.members.map((member) => member.pool.upstreams[0]!);
  a!.state.performance.firstTokenAfter(900, 0);
  b!.state.performance.firstTokenAfter(100, 0);
  assert.deepEqual(order(quick, 1_000), ["b", "a"]);
  b!.state.performance.firstTokenAfter(3_000, 30_000);
  // b's average is now above a's, whose one sample is older but not yet stale.
  assert.deepEqual(order(quick, 30_000), ["a", "b"]);
  // a's sample, from time 0, is stale: not measured, it counts as fastest and is tried.
  assert.deepEqual(order(quick, MEASUREMENT_STALE_AFTER), ["a", "b"]);
  a!.state.performance.firstTokenAfter(5_000, MEASUREMENT_STALE_AFTER);
  assert.deepEqual(order(quick, MEASUREMENT_STALE_AFTER), ["b", "a"]);
});

import assert from "node:assert/strict";
import { parseConfig } from "../config/load.ts";
import { instanceLimits, type PlacedLimit, requestLimits } from "./policies.ts";

function modelOf(yaml: string) {
  return parseConfig(yaml, { source: "test.yaml" }).config.model;
}

/** `id scope key` for each limit, easy to compare. */
function summary(placed: readonly PlacedLimit[]): string[] {
  return placed.map(({ policy, key }) =>
    `${policy.id} ${policy.scope} ${key.by === "fixed" ? key.key : key.by}`
  );
}

const LIMITS = `model:
  rate-limit: { capacity: 100, rate: 10, scope: service, client-ip-enable: true }
  services:
    chat:
      rate-limit: { capacity: 5, rate: 1, scope: api-key }
      instances:
        - name: m
          base-url: http://127.0.0.1:1
          rate-limit: { capacity: 2, rate: 1 }
    embedding:
      rate-limit: { capacity: 5, rate: 1, scope: instance }
      instances:
        - name: e
          base-url: http://127.0.0.1:1
`;

Deno.test("every section written is its own limit, keyed by its scope", () => {
  const model = modelOf(LIMITS);
  assert.deepEqual(summary(requestLimits(model, "chat")), [
    "model service chat",
    "model+client-ip client-ip client-ip",
    "services.chat api-key api-key",
  ]);
  assert.deepEqual(summary(requestLimits(model, "embedding")), [
    "model service embedding",
    "model+client-ip client-ip client-ip",
  ]);
  assert.deepEqual(summary(instanceLimits(model, "chat", { id: "c1", config: undefined })), []);
  assert.deepEqual(
    summary(instanceLimits(model, "chat", {
      id: "c1",
      config: model.services.chat!.instances[0]!["rate-limit"],
    })),
    ["instance:c1 instance *"],
  );
  assert.deepEqual(
    summary(instanceLimits(model, "embedding", { id: "e1", config: undefined })),
    ["services.embedding instance e1"],
    "a service's instance-scope limit gives each instance its own limiter",
  );
});

Deno.test("global scope shares one limiter; disabled sections are no limit", () => {
  const model = modelOf(`model:
  rate-limit: { capacity: 100, rate: 10, scope: global }
  services:
    chat:
      rate-limit: { enabled: false }
      instances:
        - name: m
          base-url: http://127.0.0.1:1
          rate-limit: { capacity: 1, rate: 1, scope: client-ip }
`);
  assert.deepEqual(summary(requestLimits(model, "chat")), ["model global *"]);
  assert.deepEqual(summary(requestLimits(model, "rerank")), ["model global *"]);
  assert.deepEqual(
    summary(instanceLimits(model, "chat", {
      id: "c1",
      config: model.services.chat!.instances[0]!["rate-limit"],
    })),
    ["instance:c1 client-ip client-ip"],
    "a client-ip limit on an instance counts each IP at that instance",
  );
});

Deno.test("without a scope a section counts what its level names", () => {
  const model = modelOf(`model:
  rate-limit: { capacity: 100, rate: 10 }
  services:
    chat:
      rate-limit: { algorithm: sliding-window, capacity: 60, window: 60000 }
      instances: []
`);
  const [global, service] = requestLimits(model, "chat");
  assert.equal(global!.policy.scope, "global");
  assert.equal(service!.policy.scope, "service");
  assert.equal(service!.policy.settings.window, 60_000);
  assert.equal(service!.policy.settings.rate, 1, "a sliding window's rate is its average");
});

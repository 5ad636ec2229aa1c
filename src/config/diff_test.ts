import assert from "node:assert/strict";
import { diffConfigs } from "./diff.ts";
import type { JsonObject } from "../lib/json.ts";

const GPU1 = "services.chat.instances[llama3@http://gpu-1:8000]";

function instance(host: string, fields: JsonObject = {}): JsonObject {
  return { name: "llama3", "base-url": `http://${host}:8000`, weight: 1, ...fields };
}

function model(instances: readonly JsonObject[], extra: JsonObject = {}): JsonObject {
  return { "load-balance": { type: "random" }, services: { chat: { instances } }, ...extra };
}

Deno.test("identical configs, keys in any order: no changes", () => {
  const config = model([instance("gpu-1"), instance("gpu-2")], { retry: { statuses: [502] } });
  assert.deepEqual(diffConfigs(config, structuredClone(config)), []);
  assert.deepEqual(
    diffConfigs(
      { a: { x: 1, y: [1, 2] }, b: true },
      { b: true, a: { y: [1, 2], x: 1 } },
    ),
    [],
  );
});

Deno.test("a weight change is one change at the instance's field", () => {
  const before = model([instance("gpu-1"), instance("gpu-2")]);
  const after = model([instance("gpu-1", { weight: 3 }), instance("gpu-2")]);
  assert.deepEqual(diffConfigs(before, after), [
    { path: `${GPU1}.weight`, op: "changed", before: 1, after: 3 },
  ]);
});

Deno.test("instances added and removed are matched by identity, each one change", () => {
  const before = model([instance("gpu-1"), instance("gpu-2"), instance("gpu-3")]);
  // gpu-1 removed shifts every position; matching by identity still sees only what changed.
  const after = model([
    instance("gpu-2"),
    instance("gpu-3"),
    instance("gpu-4", { path: "/v1/chat" }),
  ]);
  assert.deepEqual(diffConfigs(before, after), [
    { path: GPU1, op: "removed", before: instance("gpu-1") },
    {
      path: "services.chat.instances[llama3@http://gpu-4:8000/v1/chat]",
      op: "added",
      after: instance("gpu-4", { path: "/v1/chat" }),
    },
  ]);
});

Deno.test("reordering instances or adding a trailing slash to base-url keeps their identity", () => {
  const before = model([instance("gpu-1"), instance("gpu-2")]);
  const after = model([instance("gpu-2"), instance("gpu-1", { "base-url": "http://gpu-1:8000/" })]);
  assert.deepEqual(diffConfigs(before, after), [
    {
      path: `${GPU1}.base-url`,
      op: "changed",
      before: "http://gpu-1:8000",
      after: "http://gpu-1:8000/",
    },
  ]);
});

Deno.test("repeated identities are told apart by #2", () => {
  const before = model([instance("gpu-1"), instance("gpu-1")]);
  const after = model([instance("gpu-1"), instance("gpu-1", { weight: 4 }), instance("gpu-1")]);
  assert.deepEqual(diffConfigs(before, after), [
    {
      path: "services.chat.instances[llama3@http://gpu-1:8000#2].weight",
      op: "changed",
      before: 1,
      after: 4,
    },
    {
      path: "services.chat.instances[llama3@http://gpu-1:8000#3]",
      op: "added",
      after: instance("gpu-1"),
    },
  ]);
});

Deno.test("nested keys, whole sections and atomic arrays, sorted by path", () => {
  const before = model([instance("gpu-1")], {
    "rate-limit": { enabled: true, capacity: 100 },
    retry: { "max-attempts": 2, statuses: [502, 503] },
    fallback: { enabled: true },
  });
  const after = model([instance("gpu-1", { headers: { "x-team": "a" } })], {
    "load-balance": { type: "least-connections" },
    "rate-limit": { enabled: true, capacity: 100, rate: 10 },
    retry: { "max-attempts": 2, statuses: [502] },
  });
  assert.deepEqual(diffConfigs(before, after), [
    { path: "fallback", op: "removed", before: { enabled: true } },
    { path: "load-balance.type", op: "changed", before: "random", after: "least-connections" },
    { path: "rate-limit.rate", op: "added", after: 10 },
    { path: "retry.statuses", op: "changed", before: [502, 503], after: [502] },
    { path: `${GPU1}.headers`, op: "added", after: { "x-team": "a" } },
  ]);
});

Deno.test("a service added or removed is one change carrying it", () => {
  const embedding = { instances: [{ name: "bge", "base-url": "http://emb:9090" }] };
  const before = model([instance("gpu-1")]);
  const after = { ...before, services: { ...(before.services as JsonObject), embedding } };
  assert.deepEqual(diffConfigs(before, after), [
    { path: "services.embedding", op: "added", after: embedding },
  ]);
  assert.deepEqual(diffConfigs(after, before), [
    { path: "services.embedding", op: "removed", before: embedding },
  ]);
});

Deno.test("changes carry copies, not the inputs' objects", () => {
  const before = model([instance("gpu-1")]);
  const after = model([instance("gpu-1"), instance("gpu-2", { headers: { a: "1" } })]);
  const snapshot = structuredClone(after);
  const [added] = diffConfigs(before, after);
  (added?.after as JsonObject).weight = 50;
  assert.deepEqual(after, snapshot);
});

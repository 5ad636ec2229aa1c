import assert from "node:assert/strict";
import { deepEqual, type JsonObject } from "../lib/json.ts";
import { instanceIdentities, instanceIdentity } from "./instance_identity.ts";
import { mergeFileChanges } from "./merge.ts";

const GPU1 = "services.chat.instances[llama3@http://gpu-1:8000]";
const GPU2 = "services.chat.instances[llama3@http://gpu-2:8000]";

function instance(host: string, fields: JsonObject = {}): JsonObject {
  return { name: "llama3", "base-url": `http://${host}:8000`, weight: 1, ...fields };
}

/** A model section with one chat service; `extra` adds or replaces top-level keys. */
function model(instances: readonly JsonObject[], extra: JsonObject = {}): JsonObject {
  return {
    "load-balance": { type: "random" },
    services: { chat: { "load-balance": { type: "round-robin" }, instances } },
    ...extra,
  };
}

function chatInstances(config: JsonObject): unknown {
  const services = config.services as { chat?: { instances?: unknown } } | undefined;
  return services?.chat?.instances;
}

Deno.test("identities: name@base-url+path, trailing slashes dropped, #2 for repeats", () => {
  assert.equal(instanceIdentity(instance("gpu-1")), "llama3@http://gpu-1:8000");
  assert.equal(
    instanceIdentity({ name: "bge", "base-url": "http://h:9090//", path: "/v1/rerank" }),
    "bge@http://h:9090/v1/rerank",
  );
  assert.equal(instanceIdentity("not an instance"), "@");
  assert.deepEqual(
    instanceIdentities([
      instance("gpu-1"),
      instance("gpu-2"),
      { ...instance("gpu-1"), "base-url": "http://gpu-1:8000/", weight: 5 },
      instance("gpu-1"),
    ]),
    [
      "llama3@http://gpu-1:8000",
      "llama3@http://gpu-2:8000",
      "llama3@http://gpu-1:8000#2",
      "llama3@http://gpu-1:8000#3",
    ],
  );
});

Deno.test("deepEqual ignores key order and compares arrays in order", () => {
  assert.ok(deepEqual({ a: 1, b: [1, { c: null }] }, { b: [1, { c: null }], a: 1 }));
  assert.ok(!deepEqual([1, 2], [2, 1]));
  assert.ok(!deepEqual({ a: 1 }, { a: 1, b: 2 }));
  assert.ok(!deepEqual({ a: [] }, { a: {} }));
  assert.ok(deepEqual({ a: 1, b: undefined }, { a: 1 }));
});

Deno.test("nothing changed anywhere: the runtime config, no notes", () => {
  const config = model([instance("gpu-1"), instance("gpu-2")]);
  const { merged, notes } = mergeFileChanges(
    config,
    structuredClone(config),
    structuredClone(config),
  );
  assert.deepEqual(merged, config);
  assert.deepEqual(notes, []);
});

Deno.test("the file untouched: the runtime config, its changes noted", () => {
  const base = model([instance("gpu-1"), instance("gpu-2")]);
  const runtime = model([instance("gpu-1", { weight: 4 }), instance("gpu-3")], {
    "load-balance": { type: "least-connections" },
  });
  const { merged, notes } = mergeFileChanges(base, structuredClone(base), runtime);
  assert.deepEqual(merged, runtime);
  assert.deepEqual(notes, [
    { path: "load-balance.type", message: "changed at runtime, runtime kept" },
    { path: GPU1, message: "changed at runtime, runtime kept" },
    { path: GPU2, message: "removed at runtime, stays removed" },
    {
      path: "services.chat.instances[llama3@http://gpu-3:8000]",
      message: "added at runtime, kept",
    },
  ]);
});

Deno.test("the file and the runtime agree: that config, no notes, whatever the base", () => {
  const base = model([instance("gpu-1")]);
  const both = model([instance("gpu-1", { weight: 2 }), instance("gpu-2")], {
    retry: { "max-attempts": 2 },
  });
  const { merged, notes } = mergeFileChanges(base, both, structuredClone(both));
  assert.deepEqual(merged, both);
  assert.deepEqual(notes, []);
});

Deno.test("the file changes an instance the runtime left alone: the file's wins", () => {
  const base = model([instance("gpu-1"), instance("gpu-2")]);
  const file = model([instance("gpu-1", { weight: 3 }), instance("gpu-2")]);
  const { merged, notes } = mergeFileChanges(base, file, base);
  assert.deepEqual(merged, file);
  assert.deepEqual(notes, [{ path: GPU1, message: "changed in the file" }]);
});

Deno.test("both change one instance: the runtime's whole instance is kept, with a note", () => {
  const base = model([instance("gpu-1"), instance("gpu-2")]);
  const file = model([instance("gpu-1", { headers: { "x-team": "a" } }), instance("gpu-2")]);
  const runtime = model([instance("gpu-1", { weight: 7 }), instance("gpu-2")]);
  const { merged, notes } = mergeFileChanges(base, file, runtime);
  assert.deepEqual(chatInstances(merged), [instance("gpu-1", { weight: 7 }), instance("gpu-2")]);
  assert.deepEqual(notes, [{
    path: GPU1,
    message: "changed in the file and at runtime; runtime kept",
  }]);
});

Deno.test("an instance removed from the file goes, even one changed at runtime", () => {
  const base = model([instance("gpu-1"), instance("gpu-2"), instance("gpu-3")]);
  const file = model([instance("gpu-2")]);
  const runtime = model([instance("gpu-1", { weight: 9 }), instance("gpu-2"), instance("gpu-3")]);
  const { merged, notes } = mergeFileChanges(base, file, runtime);
  assert.deepEqual(chatInstances(merged), [instance("gpu-2")]);
  assert.deepEqual(notes, [
    { path: GPU1, message: "removed from the file; its changes at runtime are dropped" },
    { path: "services.chat.instances[llama3@http://gpu-3:8000]", message: "removed from the file" },
  ]);
});

Deno.test("an instance removed at runtime stays removed though still in the file", () => {
  const base = model([instance("gpu-1"), instance("gpu-2")]);
  const runtime = model([instance("gpu-2")]);
  const unchanged = mergeFileChanges(base, base, runtime);
  assert.deepEqual(chatInstances(unchanged.merged), [instance("gpu-2")]);
  assert.deepEqual(unchanged.notes, [{ path: GPU1, message: "removed at runtime, stays removed" }]);

  const file = model([instance("gpu-1", { weight: 2 }), instance("gpu-2")]);
  const changed = mergeFileChanges(base, file, runtime);
  assert.deepEqual(chatInstances(changed.merged), [instance("gpu-2")]);
  assert.deepEqual(changed.notes, [
    { path: GPU1, message: "changed in the file and removed at runtime; stays removed" },
  ]);
});

Deno.test("an instance new in the file is added, in the file's place", () => {
  const base = model([instance("gpu-1"), instance("gpu-2")]);
  const file = model([instance("gpu-1"), instance("gpu-5"), instance("gpu-2")]);
  const { merged, notes } = mergeFileChanges(base, file, base);
  assert.deepEqual(chatInstances(merged), [
    instance("gpu-1"),
    instance("gpu-5"),
    instance("gpu-2"),
  ]);
  assert.deepEqual(notes, [
    { path: "services.chat.instances[llama3@http://gpu-5:8000]", message: "added to the file" },
  ]);
});

Deno.test("instances added at runtime are kept, after the file's, in the runtime's order", () => {
  const base = model([instance("gpu-1"), instance("gpu-2")]);
  // The file reorders and adds; the runtime adds two of its own.
  const file = model([instance("gpu-2"), instance("gpu-5"), instance("gpu-1")]);
  const runtime = model([
    instance("gpu-9"),
    instance("gpu-1"),
    instance("gpu-2"),
    instance("gpu-8"),
  ]);
  const { merged, notes } = mergeFileChanges(base, file, runtime);
  assert.deepEqual(chatInstances(merged), [
    instance("gpu-2"),
    instance("gpu-5"),
    instance("gpu-1"),
    instance("gpu-9"),
    instance("gpu-8"),
  ]);
  assert.deepEqual(
    notes.map((note) => [note.path.slice("services.chat.instances".length), note.message]),
    [
      ["[llama3@http://gpu-5:8000]", "added to the file"],
      ["[llama3@http://gpu-9:8000]", "added at runtime, kept"],
      ["[llama3@http://gpu-8:8000]", "added at runtime, kept"],
    ],
  );
});

Deno.test("an instance added on both sides is the runtime's, noted only when they differ", () => {
  const base = model([instance("gpu-1")]);
  const same = mergeFileChanges(
    base,
    model([instance("gpu-1"), instance("gpu-2")]),
    model([instance("gpu-1"), instance("gpu-2")]),
  );
  assert.deepEqual(chatInstances(same.merged), [instance("gpu-1"), instance("gpu-2")]);
  assert.deepEqual(same.notes, []);

  const different = mergeFileChanges(
    base,
    model([instance("gpu-1"), instance("gpu-2", { weight: 2 })]),
    model([instance("gpu-1"), instance("gpu-2", { weight: 3 })]),
  );
  assert.deepEqual(chatInstances(different.merged), [
    instance("gpu-1"),
    instance("gpu-2", { weight: 3 }),
  ]);
  assert.deepEqual(different.notes, [
    { path: GPU2, message: "added in the file and at runtime; runtime kept" },
  ]);
});

Deno.test("repeated identities are told apart by #2", () => {
  const base = model([instance("gpu-1"), instance("gpu-1")]);
  const file = model([instance("gpu-1", { weight: 2 }), instance("gpu-1")]);
  const runtime = model([instance("gpu-1"), instance("gpu-1", { weight: 5 })]);
  const { merged, notes } = mergeFileChanges(base, file, runtime);
  assert.deepEqual(chatInstances(merged), [
    instance("gpu-1", { weight: 2 }),
    instance("gpu-1", { weight: 5 }),
  ]);
  assert.deepEqual(notes, [
    { path: GPU1, message: "changed in the file" },
    {
      path: "services.chat.instances[llama3@http://gpu-1:8000#2]",
      message: "changed at runtime, runtime kept",
    },
  ]);
});

Deno.test("a global key changed at runtime and another in the file: both kept", () => {
  const base = model([instance("gpu-1")], {
    "rate-limit": { enabled: true, capacity: 100, rate: 10 },
  });
  const file = model([instance("gpu-1")], {
    "rate-limit": { enabled: true, capacity: 200, rate: 10 },
  });
  const runtime = model([instance("gpu-1")], {
    "load-balance": { type: "least-connections" },
    "rate-limit": { enabled: true, capacity: 100, rate: 10 },
  });
  const { merged, notes } = mergeFileChanges(base, file, runtime);
  assert.deepEqual(
    merged,
    model([instance("gpu-1")], {
      "load-balance": { type: "least-connections" },
      "rate-limit": { enabled: true, capacity: 200, rate: 10 },
    }),
  );
  assert.deepEqual(notes, [
    { path: "load-balance.type", message: "changed at runtime, runtime kept" },
    { path: "rate-limit.capacity", message: "changed in the file" },
  ]);
});

Deno.test("the same key changed on both sides: the runtime's value, with a note", () => {
  const base = model([instance("gpu-1")], { retry: { "max-attempts": 2, statuses: [502, 503] } });
  const file = model([instance("gpu-1")], { retry: { "max-attempts": 3, statuses: [502] } });
  const runtime = model([instance("gpu-1")], {
    retry: { "max-attempts": 4, statuses: [502, 503] },
  });
  const { merged, notes } = mergeFileChanges(base, file, runtime);
  assert.deepEqual(
    merged.retry as JsonObject | undefined,
    { "max-attempts": 4, statuses: [502] },
    "the statuses list is one value, taken from the file since the runtime left it",
  );
  assert.deepEqual(notes, [
    { path: "retry.max-attempts", message: "changed in the file and at runtime; runtime kept" },
    { path: "retry.statuses", message: "changed in the file" },
  ]);
});

Deno.test("keys added and removed in the file or at runtime", () => {
  const base = model([instance("gpu-1")], { fallback: { enabled: true }, adapter: "normal" });
  const file = model([instance("gpu-1")], { retry: { "max-attempts": 2 }, adapter: "normal" });
  const runtime = model([instance("gpu-1")], {
    fallback: { enabled: true },
    discovery: { enabled: true },
  });
  const { merged, notes } = mergeFileChanges(base, file, runtime);
  assert.deepEqual(
    merged,
    model([instance("gpu-1")], {
      retry: { "max-attempts": 2 },
      discovery: { enabled: true },
    }),
  );
  assert.deepEqual(notes, [
    { path: "retry", message: "added to the file" },
    { path: "adapter", message: "removed at runtime, stays removed" },
    { path: "fallback", message: "removed from the file" },
    { path: "discovery", message: "added at runtime, kept" },
  ]);
});

Deno.test("a service added at runtime is kept whole", () => {
  const base = model([instance("gpu-1")]);
  const embedding = { instances: [{ name: "bge", "base-url": "http://emb:9090" }] };
  const runtime = {
    ...model([instance("gpu-1")]),
    services: { ...(base.services as JsonObject), embedding },
  };
  const file = model([instance("gpu-1", { weight: 2 })]);
  const { merged, notes } = mergeFileChanges(base, file, runtime);
  assert.deepEqual(merged.services, {
    chat: {
      "load-balance": { type: "round-robin" },
      instances: [instance("gpu-1", { weight: 2 })],
    },
    embedding,
  });
  assert.deepEqual(notes, [
    { path: GPU1, message: "changed in the file" },
    { path: "services.embedding", message: "added at runtime, kept" },
  ]);
});

Deno.test("a service removed from the file keeps only what was added to it at runtime", () => {
  const withEmbedding = (instances: readonly JsonObject[]): JsonObject => ({
    ...model([instance("gpu-1")]),
    services: {
      chat: { instances: [instance("gpu-1")] },
      embedding: { adapter: "normal", instances },
    },
  });
  const bge = { name: "bge", "base-url": "http://emb:9090" };
  const e5 = { name: "e5", "base-url": "http://emb:9091" };
  const base = withEmbedding([bge]);
  const file = {
    ...model([instance("gpu-1")]),
    services: { chat: { instances: [instance("gpu-1")] } },
  };

  const untouched = mergeFileChanges(base, file, base);
  assert.deepEqual(untouched.merged, file);
  assert.deepEqual(untouched.notes, [{
    path: "services.embedding",
    message: "removed from the file",
  }]);

  const added = mergeFileChanges(base, file, withEmbedding([{ ...bge, weight: 3 }, e5]));
  assert.deepEqual(
    (added.merged.services as JsonObject).embedding,
    { instances: [e5] },
    "the runtime-added instance stays; the file's removal of the rest holds",
  );
  assert.deepEqual(added.notes, [
    { path: "services.embedding.adapter", message: "removed from the file" },
    {
      path: "services.embedding.instances[bge@http://emb:9090]",
      message: "removed from the file; its changes at runtime are dropped",
    },
    { path: "services.embedding.instances[e5@http://emb:9091]", message: "added at runtime, kept" },
  ]);

  const changedOnly = mergeFileChanges(base, file, withEmbedding([{ ...bge, weight: 3 }]));
  assert.deepEqual(changedOnly.merged, file, "nothing added at runtime: the service is gone");
});

Deno.test("inputs are never modified and the result shares nothing with them", () => {
  const base = model([instance("gpu-1"), instance("gpu-2")], { retry: { statuses: [502] } });
  const file = model([instance("gpu-1", { weight: 2 }), instance("gpu-3")], {
    retry: { statuses: [503] },
  });
  const runtime = model([instance("gpu-1"), instance("gpu-2"), instance("gpu-4")], {
    "load-balance": { type: "ip-hash" },
    retry: { statuses: [502] },
  });
  const copies = structuredClone({ base, file, runtime });
  const first = mergeFileChanges(base, file, runtime);
  assert.deepEqual({ base, file, runtime }, copies);

  const again = mergeFileChanges(copies.base, copies.file, copies.runtime);
  assert.deepEqual(again, first, "the same inputs give the same result and notes");

  const instances = chatInstances(first.merged) as JsonObject[];
  instances[0]!.weight = 99;
  (first.merged["load-balance"] as JsonObject).type = "random";
  ((first.merged.retry as JsonObject).statuses as number[]).push(504);
  assert.deepEqual({ base, file, runtime }, copies);
});

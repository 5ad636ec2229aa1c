import assert from "node:assert/strict";
import { adminCall, type ErrorBody } from "./fixtures/admin.ts";
import { startFakeBackend } from "./fixtures/fake_backend.ts";
import { gatewayOverBackend, oneService, spawnGateway } from "./fixtures/gateway.ts";
import { postChat } from "./fixtures/requests.ts";

interface ConfigAnswer {
  readonly version: number;
  readonly config: {
    readonly services: {
      readonly chat: { readonly instances: { name: string; headers?: Record<string, string> }[] };
    };
  };
}

/** A config file of chat instances, the YAML of each given, with health checks off. */
function chatConfig(instances: readonly string[]): string {
  return `model:\n  health-check:\n    enabled: false\n  services:\n    chat:\n` +
    `      instances:\n${instances.join("")}`;
}

/**
 * Starts the gateway twice on the config `yaml` and one store file, the second time from what
 * the first stored, and asks `model` each time: the answering backend's name, and the live
 * version's instances.
 */
async function startTwice(
  yaml: string,
  model: string,
): Promise<
  { backend: string; instances: ConfigAnswer["config"]["services"]["chat"]["instances"] }[]
> {
  const folder = await Deno.makeTempDir();
  try {
    const config = `${folder}/gateway.yaml`;
    await Deno.writeTextFile(config, yaml);
    const answers = [];
    for (const start of ["first", "second"]) {
      await using gateway = await spawnGateway(["--config", config, "--kv", `${folder}/store.kv`]);
      const response = await postChat(gateway.url, { model });
      const body = await response.json();
      assert.equal(response.status, 200, `${start} start: ${JSON.stringify(body)}`);
      const read = await adminCall<ConfigAnswer>(gateway.url, "GET", "/admin/config");
      assert.equal(read.body.version, 1, `${start} start loads version 1`);
      answers.push({ backend: body.backend, instances: read.body.config.services.chat.instances });
    }
    return answers;
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
}

Deno.test("a 49 KiB config with a Chinese model name starts, and starts again from its store", async () => {
  await using backend = await startFakeBackend({ name: "qwen" });
  const padding = Array.from(
    { length: 460 },
    (_, i) =>
      `        - name: model-${String(i).padStart(4, "0")}\n` +
      `          base-url: http://127.0.0.1:9/pad-${String(i).padStart(40, "0")}\n`,
  );
  const yaml = chatConfig([
    `        - name: 通义千问\n          base-url: ${backend.url}\n`,
    ...padding,
  ]);
  const bytes = new TextEncoder().encode(yaml).byteLength;
  assert.ok(bytes >= 49 * 1024 && bytes < 56 * 1024, `${bytes} bytes`);
  for (const answer of await startTwice(yaml, "通义千问")) {
    assert.equal(answer.backend, "qwen");
    assert.equal(answer.instances[0]?.name, "通义千问");
  }
});

Deno.test("a config file too large for one KV commit starts, and starts again", async () => {
  await using backend = await startFakeBackend({ name: "big" });
  const yaml = chatConfig(Array.from(
    { length: 4_000 },
    (_, i) =>
      `        - name: 模型-${i}\n          base-url: ${backend.url}\n` +
      `          headers: { x-note: ${"note-".repeat(30)}${i} }\n`,
  ));
  assert.ok(new TextEncoder().encode(yaml).byteLength > 819_200);
  for (const answer of await startTwice(yaml, "模型-3999")) {
    assert.equal(answer.backend, "big");
    assert.equal(answer.instances.length, 4_000);
  }
});

Deno.test("PUT /admin/config with a 1.3 MB config is stored and read back whole", async () => {
  await using setup = await gatewayOverBackend((url) => oneService("chat", [url]));
  const url = setup.gateway.url;
  const instances = Array.from({ length: 5_000 }, (_, i) => ({
    name: `模型-${i}`,
    "base-url": setup.backend.url,
    weight: 1,
    headers: { "x-note": `${"note-".repeat(40)}${i}` },
  }));
  const model = { services: { chat: { instances } } };
  assert.ok(new TextEncoder().encode(JSON.stringify(model)).byteLength > 1_300_000);
  const put = await adminCall<ErrorBody>(url, "PUT", "/admin/config", {
    ifMatch: '"v1"',
    body: model,
  });
  assert.equal(put.status, 200, JSON.stringify(put.body).slice(0, 500));
  assert.equal(put.etag, '"v2"');
  const read = await adminCall<ConfigAnswer>(url, "GET", "/admin/config");
  assert.equal(read.body.version, 2);
  assert.deepEqual(read.body.config.services.chat.instances, instances);
  const response = await postChat(url, { model: "模型-4999" });
  await response.body?.cancel();
  assert.equal(response.status, 200);
});

Deno.test("an instance header of 40,000 CJK characters is stored", async () => {
  await using setup = await gatewayOverBackend((url) => oneService("chat", [url]));
  const url = setup.gateway.url;
  const value = "中".repeat(40_000);
  const added = await adminCall<ErrorBody>(url, "POST", "/admin/services/chat/instances", {
    ifMatch: '"v1"',
    body: { name: "wide", "base-url": setup.backend.url, headers: { "x-wide": value } },
  });
  assert.equal(added.status, 201, JSON.stringify(added.body).slice(0, 500));
  const read = await adminCall<ConfigAnswer>(url, "GET", "/admin/config");
  assert.equal(read.body.version, 2);
  assert.equal(read.body.config.services.chat.instances[1]?.headers?.["x-wide"], value);
});

Deno.test("what the store cannot hold is a 413 naming Deno KV's limit, and nothing changes", async () => {
  await using setup = await gatewayOverBackend((url) => oneService("chat", [url]));
  const url = setup.gateway.url;
  // The instance's name is part of its id, which the version and its audit entry record.
  const named = await adminCall(url, "POST", "/admin/services/chat/instances", {
    ifMatch: '"v1"',
    body: { name: "名".repeat(40_000), "base-url": setup.backend.url },
  });
  assert.equal(named.status, 413);
  assert.equal(named.body.error.code, "too_large_to_store");
  assert.match(named.body.error.message, /Deno KV's limit of 65536 bytes for one value/);
  assert.equal((await adminCall<ConfigAnswer>(url, "GET", "/admin/config")).body.version, 1);

  const key = await adminCall(url, "POST", "/admin/keys", {
    body: { id: "wide", models: Array.from({ length: 8_000 }, (_, i) => `模型-${i}`) },
  });
  assert.equal(key.status, 413, JSON.stringify(key.body));
  assert.equal(key.body.error.code, "too_large_to_store");
  assert.match(key.body.error.message, /65536 bytes/);
  const keys = await adminCall<{ keys: unknown[] }>(url, "GET", "/admin/keys");
  assert.deepEqual(keys.body.keys, []);
});

/**
 * Two gateways sharing one KV file: a change made through one is applied by the other within
 * about a second, although a KV watch does not see what another process writes.
 */
import assert from "node:assert/strict";
import { startFakeBackend } from "./fixtures/fake_backend.ts";
import { eventually } from "./fixtures/gate.ts";
import { oneService, spawnGateway } from "./fixtures/gateway.ts";
import { postChat } from "./fixtures/requests.ts";

Deno.test("a change made through one gateway reaches another sharing the store file within seconds", async () => {
  await using backend = await startFakeBackend({ name: "shared" });
  const dir = await Deno.makeTempDir();
  try {
    const config = `${dir}/gateway.yaml`;
    await Deno.writeTextFile(config, oneService("chat", [backend.url]));
    const store = `${dir}/shared.kv`;
    await using first = await spawnGateway(["--config", config, "--kv", store]);
    await using second = await spawnGateway(["--config", config, "--kv", store]);
    const added = await fetch(`${first.url}/admin/services/chat/instances`, {
      method: "POST",
      headers: { "content-type": "application/json", "if-match": "*" },
      body: JSON.stringify({ name: "m2", "base-url": backend.url }),
    });
    assert.equal(added.status, 201, await added.text());
    const started = performance.now();
    await eventually(async () => {
      const response = await postChat(second.url, { model: "m2" });
      await response.body?.cancel();
      assert.equal(response.status, 200);
    }, 5000);
    assert.ok(performance.now() - started < 3000, "applied within the poll interval and then some");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/**
 * A restart does not hand clients a fresh quota: limiter state is saved to the KV file at
 * shutdown and read back at start.
 */
import assert from "node:assert/strict";
import { startFakeBackend } from "./fixtures/fake_backend.ts";
import { spawnGateway } from "./fixtures/gateway.ts";
import { chatStatusCode } from "./fixtures/requests.ts";

Deno.test("a gateway restarted on the same KV file keeps every client's spent budget", async () => {
  await using backend = await startFakeBackend();
  const dir = await Deno.makeTempDir();
  try {
    const config = `${dir}/config.yaml`;
    await Deno.writeTextFile(
      config,
      `model:
  rate-limit:
    capacity: 2
    rate: 0.001
    scope: client-ip
  services:
    chat:
      instances:
        - name: m
          base-url: ${backend.url}
`,
    );
    const args = ["--config", config, "--kv", `${dir}/state.kv`];
    {
      await using first = await spawnGateway(args);
      assert.equal(await chatStatusCode(first.url), 200);
      assert.equal(await chatStatusCode(first.url), 200);
      assert.equal(await chatStatusCode(first.url), 429);
      first.process.kill("SIGTERM");
      assert.equal((await first.exited()).code, 0);
    }
    await using second = await spawnGateway(args);
    assert.equal(
      await chatStatusCode(second.url),
      429,
      "the budget spent before the restart stays spent",
    );
    assert.equal(backend.requests.length, 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

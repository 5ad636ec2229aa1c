import assert from "node:assert/strict";
import { adminCall, instancePath } from "./fixtures/admin.ts";
import { startFakeBackend } from "./fixtures/fake_backend.ts";
import { eventually } from "./fixtures/gate.ts";
import { spawnGateway, startGateway } from "./fixtures/gateway.ts";
import { postChat } from "./fixtures/requests.ts";

interface LiveConfigAnswer {
  readonly version: number;
  readonly action: string;
  readonly config: {
    readonly services: {
      readonly chat: {
        readonly instances: { name: string; "base-url": string; weight?: number }[];
      };
    };
  };
}

/** Chat instances as `name weight`, in config order. */
async function chatInstances(url: string): Promise<string[]> {
  const answer = await adminCall<LiveConfigAnswer>(url, "GET", "/admin/config");
  assert.equal(answer.status, 200);
  return answer.body.config.services.chat.instances.map((i) => `${i.name} ${i.weight ?? 1}`);
}

/** A chat config of `name: base-url` instances, each with a weight. */
function chatConfig(instances: readonly [name: string, url: string, weight: number][]): string {
  return JSON.stringify({
    model: {
      services: {
        chat: {
          instances: instances.map(([name, url, weight]) => ({ name, "base-url": url, weight })),
        },
      },
    },
  });
}

Deno.test("a restart comes back with every change made through the admin API", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const yaml = chatConfig([["m", "http://127.0.0.1:9", 1]]);
    {
      using kv = await Deno.openKv(`${dir}/store.kv`);
      await using gateway = await startGateway(yaml, { kv });
      const added = await adminCall(gateway.url, "POST", "/admin/services/chat/instances", {
        ifMatch: '"v1"',
        body: { name: "big", "base-url": "http://127.0.0.1:10", weight: 3 },
      });
      assert.equal(added.status, 201);
    }
    const logged: string[] = [];
    using kv = await Deno.openKv(`${dir}/store.kv`);
    await using gateway = await startGateway(yaml, { kv, log: (line) => logged.push(line) });
    assert.deepEqual(await chatInstances(gateway.url), ["m 1", "big 3"]);
    assert.equal(gateway.gateway.live.version, 2);
    assert.ok(
      logged.some((line) => line.startsWith("Config version 2 (add instance")),
      logged.join("\n"),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a changed file is merged with the changes made at runtime since", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const before = chatConfig([
      ["kept", "http://127.0.0.1:1", 1],
      ["tuned", "http://127.0.0.1:2", 1],
      ["dropped", "http://127.0.0.1:3", 1],
    ]);
    {
      using kv = await Deno.openKv(`${dir}/store.kv`);
      await using gateway = await startGateway(before, { kv });
      const tuned = await adminCall(
        gateway.url,
        "PATCH",
        instancePath("chat", "tuned@http://127.0.0.1:2"),
        { ifMatch: '"v1"', body: { weight: 7 } },
      );
      assert.equal(tuned.status, 200);
      const added = await adminCall(gateway.url, "POST", "/admin/services/chat/instances", {
        ifMatch: '"v2"',
        body: { name: "runtime", "base-url": "http://127.0.0.1:4" },
      });
      assert.equal(added.status, 201);
    }
    // The file now changes "kept", also changes "tuned", drops "dropped" and adds "new".
    const after = chatConfig([
      ["kept", "http://127.0.0.1:1", 5],
      ["tuned", "http://127.0.0.1:2", 2],
      ["new", "http://127.0.0.1:5", 1],
    ]);
    const logged: string[] = [];
    using kv = await Deno.openKv(`${dir}/store.kv`);
    await using gateway = await startGateway(after, { kv, log: (line) => logged.push(line) });
    assert.deepEqual(await chatInstances(gateway.url), [
      "kept 5", // changed in the file only: the file's
      "tuned 7", // changed at runtime: runtime wins
      "new 1", // added to the file
      "runtime 1", // added at runtime: kept
    ]);
    const merge = logged.filter((line) => line.includes("merge:")).join("\n");
    assert.match(merge, /dropped@http:\/\/127\.0\.0\.1:3\]: removed from the file/);
    assert.match(merge, /tuned@http:\/\/127\.0\.0\.1:2\]: changed in the file and at runtime/);
    assert.match(merge, /new@http:\/\/127\.0\.0\.1:5\]: added to the file/);
    assert.ok(
      logged.some((line) => /Config version 4: file changed/.test(line)),
      logged.join("\n"),
    );

    // The same file again is no change.
    await gateway.close();
    logged.length = 0;
    await using again = await startGateway(after, { kv, log: (line) => logged.push(line) });
    assert.equal(again.gateway.live.version, 4);
    assert.ok(!logged.some((line) => line.includes("merge:")));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("gateways sharing a store pick up each other's changes", async () => {
  await using backend = await startFakeBackend({ name: "shared" });
  using kv = await Deno.openKv(":memory:");
  const yaml = chatConfig([["m", "http://127.0.0.1:9", 1]]);
  await using a = await startGateway(yaml, { kv });
  await using b = await startGateway(yaml, { kv });
  const added = await adminCall(a.url, "POST", "/admin/services/chat/instances", {
    ifMatch: '"v1"',
    body: { name: "new", "base-url": backend.url },
  });
  assert.equal(added.status, 201);
  await eventually(async () => {
    const response = await postChat(b.url, { model: "new" });
    const body = await response.json();
    assert.equal(body.backend, "shared");
  }, 5_000);
  assert.equal(b.gateway.live.version, 2);
  // A write on b based on the version a made is accepted; one based on version 1 is stale.
  const stale = await adminCall(b.url, "PATCH", "/admin/services/chat", {
    ifMatch: '"v1"',
    body: { "load-balance": { type: "round-robin" } },
  });
  assert.equal(stale.status, 412);
  const fresh = await adminCall(b.url, "PATCH", "/admin/services/chat", {
    ifMatch: '"v2"',
    body: { "load-balance": { type: "round-robin" } },
  });
  assert.equal(fresh.status, 200);
  await eventually(async () => {
    const status = await (await fetch(`${a.url}/v1/chat/status`)).json();
    assert.equal(status.strategy, "round-robin");
  }, 5_000);
});

Deno.test("after kill -9 in the middle of writes, every acknowledged write is there", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const configPath = `${dir}/switchyard.yaml`;
    await Deno.writeTextFile(configPath, chatConfig([["m", "http://127.0.0.1:9", 1]]));
    const args = ["--config", configPath, "--kv", `${dir}/store.kv`];
    const acknowledged: string[] = [];
    {
      await using gateway = await spawnGateway(args);
      const writes: Promise<void>[] = [];
      // Four writers add instances as fast as they are acknowledged; the kill lands mid-write.
      let next = 0;
      let killed = false;
      const writer = async () => {
        while (!killed) {
          const name = `w${next++}`;
          const answer = await adminCall(gateway.url, "POST", "/admin/services/chat/instances", {
            ifMatch: "*",
            body: { name, "base-url": "http://127.0.0.1:9" },
          }).catch(() => undefined);
          if (answer?.status === 201) acknowledged.push(name);
          else if (answer !== undefined) throw new Error(`Write ${name}: ${answer.status}`);
          if (acknowledged.length >= 40 && !killed) {
            killed = true;
            gateway.process.kill("SIGKILL");
          }
        }
      };
      for (let i = 0; i < 4; i++) writes.push(writer());
      await Promise.all(writes);
      await gateway.exited();
    }
    assert.ok(acknowledged.length >= 40);
    await using restarted = await spawnGateway(args);
    const names = (await chatInstances(restarted.url)).map((line) => line.split(" ")[0]!);
    for (const name of acknowledged) assert.ok(names.includes(name), `${name} was acknowledged`);
    const versions = await adminCall<{ current: number }>(
      restarted.url,
      "GET",
      "/admin/config/versions",
    );
    // Version 1 is the file; each stored write is one more, acknowledged or cut off by the kill.
    assert.equal(versions.body.current, names.length);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/**
 * SIGHUP reads the config file again: its `model:` section goes live as a runtime change does,
 * a file that does not validate changes nothing, and a change that needs a restart is named.
 */
import assert from "node:assert/strict";
import { startFakeBackend } from "./fixtures/fake_backend.ts";
import { spawnGateway } from "./fixtures/gateway.ts";
import { postChat } from "./fixtures/requests.ts";

function config(backendUrl: string, models: readonly string[], extra = ""): string {
  const instances = models.map((model) =>
    `        - name: ${model}\n          base-url: ${backendUrl}\n`
  ).join("");
  return `${extra}model:\n  services:\n    chat:\n      instances:\n${instances}`;
}

Deno.test("SIGHUP takes in a changed model: section, and keeps the running one when the file is bad", async () => {
  await using backend = await startFakeBackend({ name: "reloaded" });
  const path = await Deno.makeTempFile({ suffix: ".yaml" });
  try {
    await Deno.writeTextFile(path, config(backend.url, ["m"]));
    await using gateway = await spawnGateway(["--config", path]);
    assert.equal((await postChat(gateway.url, { model: "m2" })).status, 404);

    await Deno.writeTextFile(path, config(backend.url, ["m", "m2"]));
    gateway.process.kill("SIGHUP");
    await gateway.waitForOutput("SIGHUP: config version 2");
    const added = await postChat(gateway.url, { model: "m2" });
    assert.equal(added.status, 200);
    assert.equal((await added.json()).backend, "reloaded");

    await Deno.writeTextFile(path, config(backend.url, ["m"]).replace("base-url", "base-ur"));
    gateway.process.kill("SIGHUP");
    const refused = await gateway.waitForOutput("SIGHUP: the running config stays");
    assert.match(refused, /base-ur/);
    const still = await postChat(gateway.url, { model: "m2" });
    assert.equal(still.status, 200, "the running config is untouched");
    await still.body?.cancel();

    await Deno.writeTextFile(
      path,
      config(backend.url, ["m", "m2"], "server:\n  shutdown-grace: 1000\n"),
    );
    gateway.process.kill("SIGHUP");
    const waiting = await gateway.waitForOutput("take");
    assert.match(waiting, /server changed .*effect at the next restart/);
    await gateway.waitForOutput("is unchanged (version 2)");
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("with admin.file-wins, a reloaded file replaces the changes made at runtime", async () => {
  await using backend = await startFakeBackend({ name: "file" });
  const path = await Deno.makeTempFile({ suffix: ".yaml" });
  try {
    const admin = "admin:\n  file-wins: true\n";
    await Deno.writeTextFile(path, config(backend.url, ["m"], admin));
    await using gateway = await spawnGateway(["--config", path]);
    // A runtime change: one more model, added over the admin API (open on loopback).
    const added = await fetch(`${gateway.url}/admin/services/chat/instances`, {
      method: "POST",
      headers: { "content-type": "application/json", "if-match": "*" },
      body: JSON.stringify({ name: "runtime", "base-url": backend.url }),
    });
    assert.equal(added.status, 201, await added.text());
    assert.equal((await postChat(gateway.url, { model: "runtime" })).status, 200);

    await Deno.writeTextFile(path, config(backend.url, ["m", "m3"], admin));
    gateway.process.kill("SIGHUP");
    await gateway.waitForOutput("it replaces the changes made since version");
    assert.equal((await postChat(gateway.url, { model: "m3" })).status, 200);
    const gone = await postChat(gateway.url, { model: "runtime" });
    assert.equal(gone.status, 404, "the runtime change gave way to the file");
    await gone.body?.cancel();
  } finally {
    await Deno.remove(path);
  }
});

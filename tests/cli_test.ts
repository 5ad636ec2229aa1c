/**
 * The command line, run as `deno run -A main.ts`: `--check`, `--help`, `--version`, the embedded
 * default, and a graceful SIGTERM.
 */
import assert from "node:assert/strict";
import manifest from "../deno.json" with { type: "json" };
import { startFakeBackend } from "./fixtures/fake_backend.ts";
import { Gate } from "./fixtures/gate.ts";
import { oneService, REPO_ROOT, runCli, spawnGateway, withTempConfig } from "./fixtures/gateway.ts";

/** A stack trace line as V8 prints them. */
const STACK_LINE = /^\s+at .+[:(]/m;

Deno.test("--check accepts JAiRouter's example config", async () => {
  const result = await runCli([
    "--check",
    "--config",
    `${REPO_ROOT}config/examples/jairouter.yaml`,
  ]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /is valid/);
});

Deno.test("--check rejects a broken config with paths and lines, and no stack trace", async () => {
  const text = [
    "server:",
    "  port: eighty",
    "model:",
    "  services:",
    "    chat:",
    "      instances:",
    "        - name: m",
    "          base-url: ftp://nowhere",
    "          colour: blue",
  ].join("\n");
  const result = await withTempConfig(text, (path) => runCli(["--check", "--config", path]));
  assert.equal(result.code, 1);
  assert.match(result.stderr, /server\.port \(line 2\)/);
  assert.match(result.stderr, /model\.services\.chat\.instances\[0\]\.base-url \(line 8\)/);
  assert.match(result.stderr, /model\.services\.chat\.instances\[0\]\.colour \(line 9\)/);
  assert.doesNotMatch(result.stderr, STACK_LINE);
  assert.doesNotMatch(result.stderr, /Uncaught/);
});

Deno.test("a bad PORT from the environment is named in the error", async () => {
  const result = await runCli(["--check"], { PORT: "eighty" });
  assert.equal(result.code, 1);
  assert.match(result.stderr, /server\.port/);
  assert.match(result.stderr, /PORT/);
  assert.doesNotMatch(result.stderr, STACK_LINE);
});

Deno.test("a missing config file is reported without a stack trace", async () => {
  const result = await runCli(["--check", "--config", "/nonexistent/switchyard.yaml"]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /\/nonexistent\/switchyard\.yaml/);
  assert.doesNotMatch(result.stderr, STACK_LINE);
});

Deno.test("--help and --version", async () => {
  const help = await runCli(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Usage:/);
  for (const flag of ["--config", "--port", "--host", "--check", "--version"]) {
    assert.ok(help.stdout.includes(flag), flag);
  }
  const version = await runCli(["--version"]);
  assert.equal(version.code, 0);
  assert.equal(version.stdout.trim(), `switchyard ${manifest.version}`);
  const unknown = await runCli(["--frobnicate"]);
  assert.notEqual(unknown.code, 0);
  assert.match(unknown.stderr, /frobnicate/);
});

Deno.test("the embedded default starts with no backend running; /health and /ready answer", async () => {
  await using gateway = await spawnGateway([]);
  const health = await fetch(`${gateway.url}/health`);
  assert.equal(health.status, 200);
  assert.deepEqual(await health.json(), { status: "ok" });
  const ready = await fetch(`${gateway.url}/ready`);
  assert.equal(ready.status, 200);
  assert.deepEqual(await ready.json(), { status: "ready" });
  gateway.process.kill("SIGTERM");
  const result = await gateway.exited();
  assert.equal(result.code, 0, result.stderr);
});

Deno.test("SIGTERM lets a request in flight finish, then the process exits 0", async () => {
  const hold = new Gate();
  const backend = await startFakeBackend({ name: "held", hold });
  try {
    await withTempConfig(
      oneService("chat", [backend.url]),
      async (path) => {
        await using gateway = await spawnGateway(["--config", path]);
        const pending = fetch(`${gateway.url}/v1/chat/completions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ model: "m", messages: [] }),
        });
        await backend.received(1);
        gateway.process.kill("SIGTERM");
        await gateway.waitForOutput("SIGTERM");
        hold.open();
        const response = await pending;
        assert.equal(response.status, 200);
        assert.equal((await response.json()).backend, "held");
        const result = await gateway.exited();
        assert.equal(result.code, 0, result.stderr);
      },
    );
  } finally {
    hold.open();
    await backend.close();
  }
});

Deno.test("after server.shutdown-grace a request still in flight no longer holds the exit", async () => {
  const hold = new Gate();
  const backend = await startFakeBackend({ name: "stuck", hold });
  try {
    await withTempConfig(
      oneService("chat", [backend.url], { server: "server:\n  shutdown-grace: 100\n" }),
      async (path) => {
        await using gateway = await spawnGateway(["--config", path]);
        const pending = fetch(`${gateway.url}/v1/chat/completions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ model: "m", messages: [] }),
        }).then((response) => response.body?.cancel(), () => "failed");
        await backend.received(1);
        gateway.process.kill("SIGTERM");
        const result = await gateway.exited();
        assert.equal(result.code, 0, result.stderr);
        assert.match(result.stdout + result.stderr, /Grace period over/);
        await pending;
      },
    );
  } finally {
    hold.open();
    await backend.close();
  }
});

Deno.test("a port already in use stops the start with one line that says what to do", async () => {
  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = String(taken.addr.port);
  const result = await runCli(["--host", "127.0.0.1", "--port", port, "--kv", ":memory:"]);
  assert.equal(result.code, 1);
  const output = result.stdout + result.stderr;
  assert.match(
    output,
    new RegExp(`Cannot listen on http://127\\.0\\.0\\.1:${port}: the port is already in use`),
  );
  assert.match(output, /--port N/);
  assert.doesNotMatch(output, STACK_LINE);
  assert.doesNotMatch(output, /Uncaught/);
});

Deno.test("a KV store that cannot be opened stops the start, naming the path and --kv", async () => {
  const path = "/nonexistent-folder-of-switchyard/switchyard.kv";
  const result = await runCli(["--host", "127.0.0.1", "--port", "0", "--kv", path]);
  assert.equal(result.code, 1);
  const output = result.stdout + result.stderr;
  assert.match(
    output,
    /Cannot open the KV store \\?"\/nonexistent-folder-of-switchyard\/switchyard\.kv\\?"/,
  );
  assert.match(output, /--kv PATH/);
  assert.doesNotMatch(output, STACK_LINE);
});

Deno.test("--check also tries the port and the store, and creates nothing", async () => {
  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const dir = await Deno.makeTempDir();
  try {
    const fine = await runCli([
      "--check",
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      "--kv",
      `${dir}/state.kv`,
    ]);
    assert.equal(fine.code, 0, fine.stderr);
    assert.deepEqual([...Deno.readDirSync(dir)], [], "no store file made by --check");
    const busy = await runCli([
      "--check",
      "--host",
      "127.0.0.1",
      "--port",
      String(taken.addr.port),
      "--kv",
      "/nonexistent-folder-of-switchyard/state.kv",
    ]);
    assert.equal(busy.code, 1);
    assert.match(busy.stderr, /the port is already in use/);
    assert.match(busy.stderr, /Cannot open the KV store/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

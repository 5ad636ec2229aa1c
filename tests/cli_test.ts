/**
 * The command line, run as `deno run -A main.ts`: `--check`, `--help`, `--version`, the embedded
 * default, and a graceful SIGTERM.
 */
import assert from "node:assert/strict";
import manifest from "../deno.json" with { type: "json" };
import { startFakeBackend } from "./fixtures/fake_backend.ts";
import { Gate, within } from "./fixtures/gate.ts";
import { postChat } from "./fixtures/requests.ts";
import { oneService, REPO_ROOT, runCli, spawnGateway, withTempConfig } from "./fixtures/gateway.ts";
import { V8_FLAGS } from "../src/runtime.ts";

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

Deno.test("a --port that is not a number exits 2 like other flag errors", async () => {
  const result = await runCli(["--check", "--port", "abc"]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /--port "abc"/);
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
        const pending = postChat(gateway.url);
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
        const pending = postChat(gateway.url);
        await backend.received(1);
        gateway.process.kill("SIGTERM");
        const response = await pending;
        assert.equal(response.status, 503, "the client is told, not cut off");
        const body = await response.json();
        assert.equal(body.error.code, "gateway_stopping");
        assert.equal(body.error.type, "server_error");
        const result = await gateway.exited();
        assert.equal(result.code, 0, result.stderr);
        const lines = result.stdout.trim().split("\n");
        const cut = lines.map((line) => JSON.parse(line)).find((line) => line.outcome);
        assert.equal(cut?.outcome, "shutdown", "the request cut has its line");
        assert.equal(cut?.level, "error");
        assert.match(
          lines.at(-1)!,
          /Switchyard stopped: the grace period ended with 1 request cut/,
        );
      },
    );
  } finally {
    hold.open();
    await backend.close();
  }
});

Deno.test("a stream still open when shutdown-grace ends gets an SSE error event, then closes", async () => {
  await using backend = await startFakeBackend({
    stream: { tokens: ["a", "b", "c"], stallAfter: 2 },
  });
  await withTempConfig(
    oneService("chat", [backend.url], { server: "server:\n  shutdown-grace: 100\n" }),
    async (path) => {
      await using gateway = await spawnGateway(["--config", path]);
      const response = await postChat(gateway.url, { stream: true });
      assert.equal(response.status, 200);
      const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
      let text = "";
      while (!text.includes('"b"')) text += (await reader.read()).value ?? "";
      gateway.process.kill("SIGTERM");
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        text += value;
      }
      const events = text.split("\n\n").filter((event) => event.trim() !== "");
      const last = events.at(-1)!;
      assert.match(last, /^event: error\ndata: /m);
      const error = JSON.parse(last.slice(last.indexOf("data: ") + 6)).error;
      assert.equal(error.code, "gateway_stopping");
      assert.equal(error.type, "server_error");

      const result = await gateway.exited();
      assert.equal(result.code, 0, result.stderr);
      const lines = result.stdout.trim().split("\n");
      const line = lines.map((line) => JSON.parse(line)).find((line) => line.outcome);
      assert.equal(line?.outcome, "shutdown");
      assert.equal(line?.reason, "gateway_stopping");
      assert.match(lines.at(-1)!, /the grace period ended with 1 request cut/);
      await within(backend.requests[0]!.aborted, 2000, "the backend's request was aborted");
    },
  );
});

Deno.test("during shutdown-announce /ready is 503, requests are still served, with Connection: close", async () => {
  await using backend = await startFakeBackend({ name: "still" });
  await withTempConfig(
    oneService("chat", [backend.url], {
      server: "server:\n  shutdown-announce: 1500\n  shutdown-grace: 2000\n",
    }),
    async (path) => {
      await using gateway = await spawnGateway(["--config", path]);
      gateway.process.kill("SIGTERM");
      await gateway.waitForOutput("SIGTERM");
      const ready = await fetch(`${gateway.url}/ready`);
      assert.equal(ready.status, 503);
      assert.equal(ready.headers.get("connection"), "close");
      await ready.body?.cancel();
      const chat = await postChat(gateway.url);
      assert.equal(chat.status, 200);
      assert.equal((await chat.json()).backend, "still");
      const result = await gateway.exited();
      assert.equal(result.code, 0, result.stderr);
      assert.match(
        result.stdout.trim().split("\n").at(-1)!,
        /Switchyard stopped: every request in flight finished/,
      );
    },
  );
});

Deno.test("one Ctrl-C passed on twice within a second is one signal: requests still drain", async () => {
  const hold = new Gate();
  const backend = await startFakeBackend({ name: "held", hold });
  try {
    await withTempConfig(oneService("chat", [backend.url]), async (path) => {
      await using gateway = await spawnGateway(["--config", path]);
      const pending = postChat(gateway.url);
      await backend.received(1);
      gateway.process.kill("SIGINT");
      gateway.process.kill("SIGINT");
      await gateway.waitForOutput("SIGINT");
      hold.open();
      const response = await pending;
      assert.equal(response.status, 200);
      await response.body?.cancel();
      const result = await gateway.exited();
      assert.equal(result.code, 0, result.stderr);
      assert.doesNotMatch(result.stdout, /again: exiting now/);
    });
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

Deno.test("without --kv, each config keeps its own store in the state directory", async () => {
  const home = await Deno.makeTempDir();
  const env = { HOME: home, XDG_STATE_HOME: "", STATE_DIRECTORY: "" };
  try {
    const stores: string[] = [];
    for (const name of ["gpu-a", "gpu-b"]) {
      const path = `${home}/${name}.yaml`;
      await Deno.writeTextFile(path, "model:\n  services: {}\n");
      const checked = await runCli(["--check", "--config", path], env);
      assert.equal(checked.code, 0, checked.stderr);
      stores.push(/store "([^"]+)"/.exec(checked.stdout)![1]!);
    }
    assert.match(
      stores[0]!,
      new RegExp(`^${home}/\\.local/state/switchyard/gpu-a-[0-9a-f]{8}\\.kv$`),
    );
    assert.notEqual(stores[0], stores[1]);
    assert.equal(
      await Deno.stat(`${home}/.local`).catch(() => undefined),
      undefined,
      "--check made nothing",
    );

    await using gateway = await spawnGateway(["--config", `${home}/gpu-a.yaml`], env, {
      defaultStore: true,
    });
    const health = await fetch(`${gateway.url}/health`);
    assert.equal(health.status, 200);
    await health.body?.cancel();
    assert.ok((await Deno.stat(stores[0]!)).isFile, "the store was made where --check said");
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("deno task start and dev run the gateway with its V8 flags, as the compiled binary has them", () => {
  for (const task of ["start", "dev"] as const) {
    assert.ok(
      manifest.tasks[task].includes(` --v8-flags=${V8_FLAGS} `),
      `deno.json's ${task} task passes --v8-flags=${V8_FLAGS}`,
    );
  }
});

Deno.test("--check also tries the Redis of --redis", async () => {
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = closed.addr.port;
  closed.close();
  const result = await runCli([
    "--check",
    "--host",
    "127.0.0.1",
    "--port",
    "0",
    "--kv",
    ":memory:",
    "--redis",
    `redis://127.0.0.1:${port}`,
  ]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, new RegExp(`Cannot reach Redis at redis://127\\.0\\.0\\.1:${port}`));
  assert.doesNotMatch(result.stderr, STACK_LINE);
});

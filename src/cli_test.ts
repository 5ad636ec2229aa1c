import assert from "node:assert/strict";
import { parseCommandLine } from "./cli.ts";

const noEnv = () => undefined;

Deno.test("flags are read", () => {
  assert.deepEqual(
    parseCommandLine([
      "--config",
      "a.yaml",
      "--port",
      "9000",
      "--host",
      "::",
      "--kv",
      ":memory:",
      "--redis",
      "redis://10.0.0.5:6379",
      "--check",
    ], noEnv),
    {
      kind: "serve",
      configPath: "a.yaml",
      port: { value: "9000", origin: "--port" },
      host: "::",
      kvPath: ":memory:",
      kvDefault: false,
      redisUrl: "redis://10.0.0.5:6379",
      check: true,
      workers: 1,
    },
  );
});

Deno.test("the environment fills in what flags leave out; flags win", () => {
  const env = (name: string) =>
    ({
      SWITCHYARD_CONFIG: "env.yaml",
      PORT: "7000",
      SWITCHYARD_KV: "/var/kv",
      SWITCHYARD_REDIS: "redis://cache:6379",
    })[name];
  assert.deepEqual(parseCommandLine([], env), {
    kind: "serve",
    configPath: "env.yaml",
    port: { value: "7000", origin: "PORT" },
    host: undefined,
    kvPath: "/var/kv",
    kvDefault: false,
    redisUrl: "redis://cache:6379",
    check: false,
    workers: 1,
  });
  const command = parseCommandLine(["--port", "1"], env);
  assert.ok(command.kind === "serve" && command.port?.origin === "--port");
});

Deno.test("a --redis that is not a redis:// URL is refused", () => {
  assert.deepEqual(parseCommandLine(["--redis", "localhost:6379"], noEnv), {
    kind: "error",
    message: 'Invalid --redis "localhost:6379": expected a redis:// or rediss:// URL',
  });
});

Deno.test("defaults: embedded config, its own store file in the state directory", () => {
  const home = (name: string) => name === "HOME" ? "/home/op" : undefined;
  const command = parseCommandLine([], home, "/srv");
  assert.ok(command.kind === "serve");
  assert.equal(command.configPath, undefined);
  assert.equal(command.kvPath, "/home/op/.local/state/switchyard/default.kv");
  assert.equal(command.kvDefault, true);
  const given = parseCommandLine(["--kv", "here.kv"], home, "/srv");
  assert.ok(given.kind === "serve" && given.kvPath === "here.kv" && !given.kvDefault);
});

Deno.test("each config file gets a store of its own; systemd's and XDG's state folders win", () => {
  const env = (variables: Record<string, string>) => (name: string) => variables[name];
  const store = (args: string[], variables: Record<string, string>, cwd = "/srv") => {
    const command = parseCommandLine(args, env(variables), cwd);
    assert.ok(command.kind === "serve");
    return command.kvPath;
  };
  const home = { HOME: "/home/op" };
  const gpu = store(["--config", "gpu.yaml"], home);
  assert.match(gpu, /^\/home\/op\/\.local\/state\/switchyard\/gpu-[0-9a-f]{8}\.kv$/);
  assert.equal(
    store(["--config", "/srv/gpu.yaml"], home, "/"),
    gpu,
    "the same file, however named",
  );
  assert.notEqual(store(["--config", "/etc/gpu.yaml"], home), gpu, "another file, another store");
  assert.equal(
    store([], { ...home, XDG_STATE_HOME: "/var/state" }),
    "/var/state/switchyard/default.kv",
  );
  assert.equal(
    store([], { ...home, STATE_DIRECTORY: "/var/lib/switchyard:/var/lib/other" }),
    "/var/lib/switchyard/default.kv",
  );
});

Deno.test("help, version and unknown flags", () => {
  assert.equal(parseCommandLine(["--help"], noEnv).kind, "help");
  assert.equal(parseCommandLine(["--version"], noEnv).kind, "version");
  const error = parseCommandLine(["--colour"], noEnv);
  assert.equal(error.kind, "error");
  assert.equal(parseCommandLine(["stray"], noEnv).kind, "error");
});

Deno.test("a --port that is not a port number is a flag error", () => {
  for (const value of ["abc", "80x", "65536", "1.5", ""]) {
    const command = parseCommandLine(["--port", value], noEnv);
    assert.equal(command.kind, "error", value);
    assert.ok(command.kind === "error" && command.message.includes(`"${value}"`), value);
  }
  const zero = parseCommandLine(["--port", "0"], noEnv);
  assert.ok(zero.kind === "serve" && zero.port?.value === "0");
});

Deno.test("--workers and SWITCHYARD_WORKERS: a count, or auto for one per CPU; the flag wins", () => {
  const workers = (args: string[], value?: string) => {
    const command = parseCommandLine(
      args,
      (name) => name === "SWITCHYARD_WORKERS" ? value : undefined,
    );
    return command.kind === "serve" ? command.workers : command;
  };
  assert.equal(workers([]), 1);
  assert.equal(workers(["--workers", "4"]), 4);
  assert.equal(workers([], "3"), 3);
  assert.equal(workers(["--workers", "2"], "3"), 2);
  assert.equal(workers(["--workers", "auto"]), navigator.hardwareConcurrency);
  for (const bad of ["0", "-1", "two", "1.5", "", "100000"]) {
    const command = parseCommandLine(["--workers", bad], noEnv);
    assert.equal(command.kind, "error", bad);
    assert.match(command.kind === "error" ? command.message : "", /--workers/);
  }
  const fromEnv = parseCommandLine([], (name) => name === "SWITCHYARD_WORKERS" ? "x" : undefined);
  assert.ok(fromEnv.kind === "error" && /SWITCHYARD_WORKERS "x"/.test(fromEnv.message));
});

Deno.test("several workers need a store they share: :memory: is refused", () => {
  const command = parseCommandLine(["--workers", "2", "--kv", ":memory:"], noEnv);
  assert.ok(command.kind === "error");
  assert.match(command.message, /--workers 2 needs a store the workers share/);
  assert.equal(parseCommandLine(["--kv", ":memory:"], noEnv).kind, "serve");
});

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
      "--check",
    ], noEnv),
    {
      kind: "serve",
      configPath: "a.yaml",
      port: { value: "9000", origin: "--port" },
      host: "::",
      kvPath: ":memory:",
      check: true,
    },
  );
});

Deno.test("the environment fills in what flags leave out; flags win", () => {
  const env = (name: string) =>
    ({ SWITCHYARD_CONFIG: "env.yaml", PORT: "7000", SWITCHYARD_KV: "/var/kv" })[name];
  assert.deepEqual(parseCommandLine([], env), {
    kind: "serve",
    configPath: "env.yaml",
    port: { value: "7000", origin: "PORT" },
    host: undefined,
    kvPath: "/var/kv",
    check: false,
  });
  const command = parseCommandLine(["--port", "1"], env);
  assert.ok(command.kind === "serve" && command.port?.origin === "--port");
});

Deno.test("defaults: embedded config, local KV file", () => {
  const command = parseCommandLine([], noEnv);
  assert.ok(command.kind === "serve");
  assert.equal(command.configPath, undefined);
  assert.equal(command.kvPath, "switchyard.kv");
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

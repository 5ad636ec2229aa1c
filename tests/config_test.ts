/**
 * Config loading: JAiRouter's example loads unchanged, and every problem of a broken file is
 * reported with its YAML path and line.
 */
import assert from "node:assert/strict";
import { ConfigError, parseConfig } from "../src/config/load.ts";
import { REPO_ROOT } from "./fixtures/gateway.ts";

const JAIROUTER = `${REPO_ROOT}config/examples/jairouter.yaml`;

Deno.test("JAiRouter's example config loads unchanged, with no instance listed twice", async () => {
  const text = await Deno.readTextFile(JAIROUTER);
  const { config, warnings } = parseConfig(text, { source: "jairouter.yaml" });
  assert.deepEqual(warnings, []);
  const services = config.model.services;
  assert.equal(services.chat?.instances.length, 2);
  assert.equal(services.embedding?.instances.length, 3);
  assert.equal(services.rerank?.instances.length, 2);
  assert.equal(services.tts?.instances.length, 2);
  assert.equal(services.stt?.instances.length, 2);
  assert.equal(services.imgGen?.instances.length, 1);
  assert.equal(services.imgEdit?.instances.length, 1);
  assert.equal(services.chat?.["load-balance"]?.type, "least-connections");
  assert.equal(services.rerank?.["load-balance"]?.["hash-algorithm"], "sha256");
  assert.equal(services.chat?.instances[0]?.path, "/v1-openai/chat/completions");
  assert.equal(services.chat?.instances[1]?.["rate-limit"]?.capacity, 50);
  assert.equal(config.model["circuit-breaker"]?.failureThreshold, 5);
  assert.equal(services.stt?.instances[0]?.weight, 2);
});

Deno.test("a broken config lists every problem with its YAML path and line", () => {
  const lines = [
    "server:", // 1
    "  port: eighty", // 2
    "model:", // 3
    "  services:", // 4
    "    chat:", // 5
    "      instances:", // 6
    "        - name: m", // 7
    "          base-url: not a url", // 8
    "          colour: blue", // 9
    "          weight: 0", // 10
  ];
  let error: unknown;
  try {
    parseConfig(lines.join("\n"), { source: "broken.yaml" });
  } catch (caught) {
    error = caught;
  }
  assert.ok(error instanceof ConfigError, "a ConfigError is thrown");
  const found = error.problems.map((problem) => `${problem.path}@${problem.line}`).toSorted();
  assert.deepEqual(found, [
    "model.services.chat.instances[0].base-url@8",
    "model.services.chat.instances[0].colour@9",
    "model.services.chat.instances[0].weight@10",
    "server.port@2",
  ]);
  assert.match(error.message, /^Cannot load config "broken\.yaml": 4 problems/);
});

Deno.test("YAML syntax errors are reported with their line", () => {
  assert.throws(
    () => parseConfig("model:\n  services:\n    chat: [unclosed\n", { source: "bad.yaml" }),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.ok(error.problems.length >= 1);
      assert.equal(typeof error.problems[0]!.line, "number");
      return true;
    },
  );
});

Deno.test("the README's broken config example is what the loader prints", async () => {
  const readme = await Deno.readTextFile(`${REPO_ROOT}README.md`);
  const shown = /```text\n(Cannot load config "bad\.yaml"[^`]*)```/.exec(readme)?.[1];
  assert.ok(shown, "the README shows a broken config");
  const bad = [
    "server:", // 1
    "  port: 70000", // 2
    "model:", // 3
    "  services:", // 4
    "    chat:", // 5
    "      load-balance:", // 6
    "        type: round-robbin", // 7
    "      instances:", // 8
    "        - name: a", // 9
    "          base-url: ftp://a", // 10
    "    rerank:", // 11
    "      instances:", // 12
    "        # no name", // 13
    "        - base-url: http://r:8000", // 14
    "          adapter: vllm", // 15
    "          wieght: 2", // 16
  ].join("\n");
  assert.throws(
    () => parseConfig(bad, { source: "bad.yaml" }),
    (error) => error instanceof ConfigError && error.message === shown.trimEnd(),
  );
});

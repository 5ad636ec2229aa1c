/**
 * JAiRouter's `model:` schema as its v2.x files write it: every key loads, with its meaning
 * where Switchyard has one and a warning naming it where not; JAiRouter's adapters that are not
 * supported yet get a message saying so.
 */
import assert from "node:assert/strict";
import { parseConfig } from "../src/config/load.ts";
import { startFakeBackend } from "./fixtures/fake_backend.ts";
import { runCli, spawnGateway, withTempConfig } from "./fixtures/gateway.ts";
import { postChat } from "./fixtures/requests.ts";

/** A config in JAiRouter v2.x's spelling, with the keys it has and Switchyard did not. */
function jaiRouterV2(baseUrl: string): string {
  return [
    "model:",
    "  load-balance:",
    "    type: consistent-hash",
    "    hash-algorithm: md5",
    "    virtualNodes: 40",
    "  adapter: normal",
    "  rate-limit:",
    "    enabled: true",
    "    algorithm: token-bucket",
    "    capacity: 1000",
    "    rate: 100",
    "    scope: service",
    "    key: global-limit",
    "  services:",
    "    chat:",
    "      rate-limit:",
    "        enabled: true",
    "        capacity: 100",
    "        rate: 10",
    "        scope: service",
    "        key: chat-limit",
    "        client-ip-enable: true",
    "      instances:",
    '        - name: "qwen"',
    '          instance-id: "c09eb43b-5084-48bb-8fc8-3e5ab2505c31"',
    `          base-url: "${baseUrl}"`,
    '          path: "/v1/chat/completions"',
    "          weight: 1",
    "          status: active",
    "          healthy: true",
    "          headers: {}",
    '        - name: "qwen"',
    '          instance-id: "77ce6597-a2d8-47f9-991e-331f05b036ea"',
    '          base-url: "http://127.0.0.1:9"',
    "          status: inactive",
    "          id: 7",
  ].join("\n");
}

Deno.test("a JAiRouter v2.x config starts the gateway, warns about what it ignores, and serves", async () => {
  await using backend = await startFakeBackend({ name: "a" });
  await withTempConfig(jaiRouterV2(backend.url), async (path) => {
    await using gateway = await spawnGateway(["--config", path]);
    const response = await postChat(gateway.url, { model: "qwen" });
    assert.equal(response.status, 200, await response.clone().text());
    const body: { backend?: string } = await response.json();
    // The inactive instance takes nothing.
    assert.equal(body.backend, "a");
    await gateway.close();
    const { stdout, stderr } = await gateway.exited();
    const output = stdout + stderr;
    assert.match(output, /model\.rate-limit\.key, model\.services\.chat\.rate-limit\.key/);
    assert.match(output, /model\.services\.chat\.instances\[0\]\.healthy: ignored/);
    assert.match(output, /model\.services\.chat\.instances\[1\]\.id: ignored/);
    assert.doesNotMatch(output, /\.virtualNodes|\.instance-id/, "keys with a meaning do not warn");
  });
});

Deno.test("--check names every ignored JAiRouter key once", async () => {
  await withTempConfig(jaiRouterV2("http://127.0.0.1:8000"), async (path) => {
    const result = await runCli(["--check", "--config", path, "--kv", ":memory:"]);
    assert.equal(result.code, 0, result.stderr);
    const warnings = result.stderr.split("\n").filter((line) => line.startsWith("warning:"));
    assert.equal(warnings.length, 3, result.stderr);
  });
});

Deno.test("JAiRouter's virtualNodes is virtual-nodes, and inactive is disabled", () => {
  const { config } = parseConfig(jaiRouterV2("http://127.0.0.1:8000"), { source: "v2.yaml" });
  assert.equal(config.model["load-balance"]?.["virtual-nodes"], 40);
  assert.equal(config.model.services.chat?.instances[1]?.status, "disabled");
  const both = "model:\n  load-balance:\n    virtualNodes: 40\n    virtual-nodes: 50\n";
  assert.throws(
    () => parseConfig(both, { source: "both.yaml" }),
    /model\.load-balance\.virtualNodes \(line 3\): virtualNodes \(40\) and virtual-nodes \(50\)/,
  );
});

Deno.test("adapter claude is JAiRouter's name for anthropic, which serves chat only", () => {
  const chat = [
    "model:",
    "  services:",
    "    chat:",
    "      instances:",
    "        - name: claude-sonnet",
    "          base-url: https://api.anthropic.com",
    "          path: /v1/messages",
    "          adapter: claude",
  ].join("\n");
  const { config } = parseConfig(chat, { source: "claude.yaml" });
  assert.equal(config.model.services.chat?.instances[0]?.adapter, "claude");
  assert.throws(
    () => parseConfig(chat.replace("chat:", "embedding:"), { source: "claude.yaml" }),
    /Instance "claude-sonnet" at https:\/\/api\.anthropic\.com is Anthropic \(adapter claude\), which does not serve embedding/,
  );
});

Deno.test("two instances with the same instance-id in a service are refused", () => {
  const text = [
    "model:",
    "  services:",
    "    chat:",
    "      instances:",
    "        - name: a",
    "          instance-id: same",
    "          base-url: http://127.0.0.1:8001",
    "        - name: b",
    "          instance-id: same",
    "          base-url: http://127.0.0.1:8002",
  ].join("\n");
  assert.throws(
    () => parseConfig(text, { source: "dup.yaml" }),
    /instances\[1\]\.instance-id \(line 9\): Another chat instance has the instance-id "same"/,
  );
});

/**
 * An instance's `api-key` and header values may name environment variables: `${NAME}`. The
 * backend gets the value; the admin API, the store and the audit trail only ever see the name.
 */
import assert from "node:assert/strict";
import { ConfigError, parseConfig } from "../src/config/load.ts";
import { adminCall, instancePath, type Wrapped } from "./fixtures/admin.ts";
import { gatewayOverBackend, startGateway } from "./fixtures/gateway.ts";
import { startFakeBackend } from "./fixtures/fake_backend.ts";
import { postChat } from "./fixtures/requests.ts";

/** An environment variable of this test alone, set for its duration. */
function envVar(value: string): { readonly name: string } & Disposable {
  const name = `SWITCHYARD_TEST_SECRET_${crypto.randomUUID().replaceAll("-", "_").toUpperCase()}`;
  Deno.env.set(name, value);
  return { name, [Symbol.dispose]: () => Deno.env.delete(name) };
}

function chatWithKey(url: string, apiKey: string, headers = ""): string {
  return `model:
  services:
    chat:
      instances:
        - name: m
          base-url: ${url}
          api-key: "${apiKey}"
${headers}`;
}

/** The error loading `yaml` fails with. */
function configErrorOf(yaml: string): ConfigError {
  try {
    parseConfig(yaml, { source: "t.yaml" });
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error;
  }
  assert.fail("expected a ConfigError");
}

/** Every value in the store, as one text. */
async function storeText(kv: Deno.Kv): Promise<string> {
  const values: unknown[] = [];
  for await (const entry of kv.list({ prefix: [] })) values.push(entry.key, entry.value);
  return JSON.stringify(values);
}

Deno.test("an api-key and header values naming environment variables reach the backend resolved", async () => {
  using key = envVar("sk-from-env");
  using token = envVar("t0ken");
  await using setup = await gatewayOverBackend((url) =>
    chatWithKey(
      url,
      `\${${key.name}}`,
      `          headers:\n            X-Team-Token: "team-\${${token.name}}"\n`,
    )
  );
  const response = await postChat(setup.gateway.url, { model: "m" });
  assert.equal(response.status, 200, await response.text());
  const seen = await setup.backend.received(1);
  assert.equal(seen.headers.get("authorization"), "Bearer sk-from-env");
  assert.equal(seen.headers.get("x-team-token"), "team-t0ken");
});

Deno.test("a variable that is not set is a config error naming the key and the variable", () => {
  const name = "SWITCHYARD_TEST_SECRET_THAT_IS_NOT_SET";
  Deno.env.delete(name);
  const error = configErrorOf(chatWithKey("http://127.0.0.1:1", `\${${name}}`));
  assert.equal(error.problems.length, 1, error.message);
  const [problem] = error.problems;
  assert.equal(problem!.path, "model.services.chat.instances[0].api-key");
  assert.equal(problem!.line, 7);
  assert.match(problem!.message, new RegExp(`environment variable ${name} .*is not set`, "i"));
});

Deno.test("a header value naming a variable that is not set is a config error too", () => {
  const name = "SWITCHYARD_TEST_SECRET_HEADER_NOT_SET";
  Deno.env.delete(name);
  const yaml = chatWithKey(
    "http://127.0.0.1:1",
    "sk-1",
    `          headers:\n            X-Key: "\${${name}}"\n`,
  );
  const error = configErrorOf(yaml);
  assert.match(
    String(error),
    new RegExp(`model\\.services\\.chat\\.instances\\[0\\]\\.headers\\.X-Key.*${name}`),
  );
});

Deno.test("a value that resolves to more than one line is refused, without showing it", () => {
  using key = envVar("sk-1\nX-Injected: yes");
  const error = configErrorOf(chatWithKey("http://127.0.0.1:1", `\${${key.name}}`));
  assert.match(String(error), /instances\[0\]\.api-key.*cannot contain line breaks/);
  assert.match(String(error), new RegExp(`the value of ${key.name} has one`));
  assert.doesNotMatch(String(error), /Injected/);
});

Deno.test("a key written as it is and ${NAME:default} keep working", () => {
  const name = "SWITCHYARD_TEST_SECRET_WITH_DEFAULT";
  Deno.env.delete(name);
  const plain = parseConfig(chatWithKey("http://127.0.0.1:1", "sk-$plain"), { source: "t" });
  assert.equal(plain.config.model.services.chat?.instances[0]?.["api-key"], "sk-$plain");
  const fallback = parseConfig(chatWithKey("http://127.0.0.1:1", `\${${name}:sk-default}`), {
    source: "t",
  });
  assert.equal(fallback.config.model.services.chat?.instances[0]?.["api-key"], "sk-default");
});

Deno.test("admin reads, the store and the audit trail show the reference, never the value", async () => {
  using key = envVar("sk-very-secret-value");
  await using backend = await startFakeBackend();
  using kv = await Deno.openKv(":memory:");
  await using gateway = await startGateway(chatWithKey(backend.url, `\${${key.name}}`), { kv });
  const url = gateway.url;

  const config = await adminCall<{ config: unknown }>(url, "GET", "/admin/config");
  assert.equal(config.status, 200);
  assert.match(JSON.stringify(config.body), new RegExp(`\\$\\{${key.name}\\}`));

  // A reference written through the admin API is resolved and kept as written too.
  const post = await adminCall(url, "POST", "/admin/services/chat/instances", {
    ifMatch: config.etag!,
    body: { name: "n", "base-url": backend.url, headers: { "X-Key": `key-\${${key.name}}` } },
  });
  assert.equal(post.status, 201, JSON.stringify(post.body));
  const response = await postChat(url, { model: "n" });
  assert.equal(response.status, 200, await response.text());
  assert.equal((await backend.received(1)).headers.get("x-key"), "key-sk-very-secret-value");

  const reads = [
    await adminCall(url, "GET", "/admin/config"),
    await adminCall(url, "GET", "/admin/services/chat/instances"),
    await adminCall(url, "GET", instancePath("chat", `m@${backend.url}/v1/chat/completions`)),
    await adminCall(url, "GET", "/admin/config/versions/1"),
    await adminCall(url, "GET", "/admin/audit"),
    await adminCall<Wrapped<unknown>>(url, "GET", "/api/config/instance/type/chat"),
  ];
  for (const read of reads) {
    assert.equal(read.status, 200, JSON.stringify(read.body));
    assert.doesNotMatch(JSON.stringify(read.body), /secret-value/);
  }
  // A secret header's value that holds more than references and a scheme word is redacted:
  // its written part may be secret too.
  assert.match(JSON.stringify(reads[1]!.body), /"X-Key":"\[redacted\]"/);
  const stored = await storeText(kv);
  assert.match(stored, new RegExp(key.name));
  assert.doesNotMatch(stored, /secret-value/);
});

Deno.test("the admin API may name only variables the live config or the file names", async () => {
  using key = envVar("sk-upstream");
  using other = envVar("a-secret-of-the-host");
  await using backend = await startFakeBackend();
  await using gateway = await startGateway(chatWithKey(backend.url, `\${${key.name}}`));
  const url = gateway.url;
  const config = await adminCall(url, "GET", "/admin/config");
  const refused = await adminCall(url, "POST", "/admin/services/chat/instances", {
    ifMatch: config.etag!,
    body: { name: "n", "base-url": backend.url, "api-key": `\${${other.name}}` },
  });
  assert.equal(refused.status, 400, JSON.stringify(refused.body));
  assert.equal(refused.body.error.code, "invalid_config");
  assert.match(refused.body.error.message, /model\.services\.chat\.instances\[1\]\.api-key/);
  assert.match(refused.body.error.message, new RegExp(other.name));
  assert.doesNotMatch(JSON.stringify(refused.body), /a-secret-of-the-host/);

  const reused = await adminCall(url, "POST", "/admin/services/chat/instances", {
    ifMatch: config.etag!,
    body: { name: "n", "base-url": backend.url, "api-key": `\${${key.name}}` },
  });
  assert.equal(reused.status, 201, JSON.stringify(reused.body));
  const response = await postChat(url, { model: "n" });
  assert.equal(response.status, 200, await response.text());
  assert.equal((await backend.received(1)).headers.get("authorization"), "Bearer sk-upstream");
});

Deno.test("an api-key that comes out empty sends no key", async () => {
  const name = "SWITCHYARD_TEST_SECRET_OPTIONAL_KEY";
  Deno.env.delete(name);
  await using setup = await gatewayOverBackend((url) => chatWithKey(url, `\${${name}:}`));
  const response = await postChat(setup.gateway.url, { model: "m" });
  assert.equal(response.status, 200, await response.text());
  assert.equal((await setup.backend.received(1)).headers.get("authorization"), null);
});

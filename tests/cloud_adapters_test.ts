/**
 * The cloud adapters against emulated providers on 127.0.0.1: each request reaches the
 * provider's own path with the key in the header it reads, discovery reads its model list, the
 * health probe costs no tokens, and the provider's errors reach the client as it sent them.
 */
import assert from "node:assert/strict";
import OpenAI from "openai";
import {
  CLOUD_PROVIDERS,
  type CloudBackend,
  type CloudKind,
  startCloud,
} from "./fixtures/backends/mod.ts";
import { envReferences } from "../src/config/env_references.ts";
import { parseConfig } from "../src/config/load.ts";
import { eventually } from "./fixtures/gate.ts";
import { startGateway, type TestGateway } from "./fixtures/gateway.ts";
import { postChat } from "./fixtures/requests.ts";

const KEY = "sk-cloud-key";

/** Where each provider serves chat and lists models, and what the health probe reads. */
const EXPECTED: Readonly<Record<CloudKind, { chat: string; models: string; health: string }>> = {
  gemini: {
    chat: "/v1beta/openai/chat/completions",
    models: "/v1beta/openai/models",
    health: "/v1beta/openai/models",
  },
  volcengine: {
    chat: "/api/v3/chat/completions",
    models: "/api/v3/models",
    health: "/api/v3/models",
  },
  dashscope: {
    chat: "/compatible-mode/v1/chat/completions",
    models: "/compatible-mode/v1/models",
    health: "/compatible-mode/v1/models",
  },
  hunyuan: { chat: "/v1/chat/completions", models: "/v1/models", health: "/v1/models" },
  deepseek: { chat: "/chat/completions", models: "/models", health: "/models" },
  openrouter: { chat: "/api/v1/chat/completions", models: "/api/v1/models", health: "/api/v1/key" },
};

function cloudConfig(
  kind: CloudKind,
  cloud: CloudBackend,
  options: { name?: string; key?: string; extra?: string; model?: string } = {},
): string {
  return `model:
${options.model ?? ""}  services:
    chat:
      instances:
        - name: "${options.name ?? cloud.models[0]}"
          base-url: ${cloud.url}
          adapter: ${kind}
          api-key: ${options.key ?? KEY}
${options.extra ?? ""}`;
}

async function modelIds(gateway: TestGateway): Promise<string[]> {
  const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: "sk-test", maxRetries: 0 });
  return (await client.models.list()).data.map((model) => model.id);
}

for (const kind of Object.keys(CLOUD_PROVIDERS) as CloudKind[]) {
  const expected = EXPECTED[kind];

  Deno.test(`${kind}: chat reaches ${expected.chat} with the key as a bearer token`, async () => {
    await using cloud = await startCloud(kind, { apiKey: KEY, name: kind });
    await using gateway = await startGateway(cloudConfig(kind, cloud));
    const model = cloud.models[0]!;
    const body = JSON.stringify({ model, messages: [{ role: "user", content: "Hi" }] });
    const response = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    const answer = await response.json();
    assert.equal(response.status, 200, JSON.stringify(answer));
    assert.equal(answer.choices[0].message.content, `Hello from ${kind}`);
    const seen = await cloud.received(1);
    assert.equal(seen.method, "POST");
    assert.equal(seen.path, expected.chat);
    assert.equal(seen.headers.get("authorization"), `Bearer ${KEY}`);
    assert.equal(new TextDecoder().decode(seen.body), body);

    const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: "sk-test", maxRetries: 0 });
    const stream = await client.chat.completions.create({
      model,
      messages: [{ role: "user", content: "Hi" }],
      stream: true,
    });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    assert.equal(text, `Hello from ${kind}`);
  });

  Deno.test(`${kind}: discovery reads ${expected.models} with the key`, async () => {
    await using cloud = await startCloud(kind, { apiKey: KEY });
    await using gateway = await startGateway(
      cloudConfig(kind, cloud, {
        name: "*",
        model: "  discovery: { interval: 100 }\n",
        extra: "          discover: true\n",
      }),
    );
    const listed = kind === "gemini"
      ? [
        "models/gemini-2.5-flash",
        "gemini-2.5-flash",
        "models/text-embedding-004",
        "text-embedding-004",
      ]
      : [...cloud.models];
    await eventually(async () => assert.deepEqual(await modelIds(gateway), listed), 2_000);
    const read = cloud.requests.find((request) => request.path === expected.models);
    assert.equal(read?.headers.get("authorization"), `Bearer ${KEY}`);
    const last = listed[listed.length - 1]!;
    const response = await postChat(gateway.url, { model: last });
    assert.equal(response.status, 200, await response.text());
  });

  Deno.test(`${kind}: health is probed on ${expected.health}, spending no tokens`, async () => {
    await using cloud = await startCloud(kind, { apiKey: KEY });
    await using gateway = await startGateway(
      cloudConfig(kind, cloud, { model: "  health-check: { interval: 100, timeout: 500 }\n" }),
    );
    await eventually(
      () => Promise.resolve(assert.ok(cloud.hits("GET", expected.health) >= 2)),
      2_000,
    );
    assert.ok(cloud.requests.every((request) => request.method === "GET"));
    const probe = cloud.requests.find((request) => request.path === expected.health);
    assert.equal(probe?.headers.get("authorization"), `Bearer ${KEY}`);
    const status = await (await fetch(`${gateway.url}/v1/chat/status`)).json();
    assert.equal(status.instances[0].health.status, "up");
  });

  Deno.test(`${kind}: the provider's errors reach the client as it sent them`, async () => {
    await using cloud = await startCloud(kind, { apiKey: KEY });
    await using gateway = await startGateway(cloudConfig(kind, cloud, { key: "sk-wrong" }));
    const refused = await postChat(gateway.url, { model: cloud.models[0] });
    assert.equal(refused.status, 401);
    assert.deepEqual(
      await refused.json(),
      CLOUD_PROVIDERS[kind].errorBody(401, CLOUD_PROVIDERS[kind].badKey),
    );

    await using right = await startGateway(cloudConfig(kind, cloud));
    cloud.failWith(429);
    const limited = await postChat(right.url, { model: cloud.models[0] });
    assert.equal(limited.status, 429);
    const body = await limited.json();
    assert.equal(typeof body.error.message, "string");
    assert.deepEqual(
      body,
      CLOUD_PROVIDERS[kind].errorBody(429, "The service is temporarily unavailable (429)"),
    );
  });
}

Deno.test("the README's cloud example loads once the variables it names are set", () => {
  const readme = Deno.readTextFileSync(new URL("../README.md", import.meta.url));
  const blocks = [...readme.matchAll(/```yaml not-config env\n([\s\S]*?)```/g)].map((m) => m[1]!);
  assert.equal(blocks.length, 1);
  const names = envReferences(blocks[0]!);
  assert.ok(names.includes("AZURE_OPENAI_API_KEY"));
  const saved = names.map((name) => [name, Deno.env.get(name)] as const);
  try {
    for (const name of names) Deno.env.set(name, `value-of-${name}`);
    const { config } = parseConfig(blocks[0]!, { source: "README.md" });
    const instances = config.model.services.chat?.instances ?? [];
    assert.equal(instances.length, 9);
    assert.equal(instances[0]?.["api-key"], "value-of-GEMINI_API_KEY");
  } finally {
    for (const [name, value] of saved) {
      if (value === undefined) Deno.env.delete(name);
      else Deno.env.set(name, value);
    }
  }
});

Deno.test("/v1/completions served by chat instances goes where the provider serves it, if anywhere", async () => {
  await using deepseek = await startCloud("deepseek", { apiKey: KEY });
  await using gemini = await startCloud("gemini", { apiKey: KEY });
  await using gateway = await startGateway(`model:
  services:
    chat:
      instances:
        - { name: deepseek-chat, base-url: "${deepseek.url}", adapter: deepseek, api-key: ${KEY} }
        - { name: gemini-2.5-flash, base-url: "${gemini.url}", adapter: gemini, api-key: ${KEY} }
`);
  const complete = (model: string) =>
    fetch(`${gateway.url}/v1/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model, prompt: "def fib(" }),
    });
  const filled = await complete("deepseek-chat");
  assert.equal(filled.status, 200, await filled.text());
  assert.equal((await deepseek.received(1)).path, "/beta/completions");

  // Gemini serves no completions: the gateway says so rather than sending a request to a 404.
  const none = await complete("gemini-2.5-flash");
  assert.equal(none.status, 404);
  assert.equal((await none.json()).error.code, "model_not_found");
  assert.equal(gemini.requests.length, 0);
});

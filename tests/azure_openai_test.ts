/**
 * The `azure-openai` adapter against an emulated Azure OpenAI resource: the key in `api-key`,
 * the v1 API by default, a deployment's own endpoint (with its `api-version`) by the
 * instance's path, discovery and health on the v1 model list, and Azure's errors unchanged.
 */
import assert from "node:assert/strict";
import OpenAI from "openai";
import { startAzureOpenai } from "./fixtures/backends/mod.ts";
import { eventually } from "./fixtures/gate.ts";
import { startGateway } from "./fixtures/gateway.ts";
import { postChat } from "./fixtures/requests.ts";

const KEY = "azure-key-1";
const DEPLOYMENT_PATH = "/openai/deployments/gpt-4o-prod/chat/completions?api-version=2024-10-21";

Deno.test("azure-openai: the v1 API by default, the key in an api-key header", async () => {
  await using azure = await startAzureOpenai({ apiKey: KEY, name: "azure" });
  await using gateway = await startGateway(`model:
  services:
    chat:
      instances:
        - { name: gpt-4o, base-url: "${azure.url}", adapter: azure-openai, api-key: ${KEY} }
    embedding:
      instances:
        - name: text-embedding-3-small
          base-url: ${azure.url}
          adapter: azure-openai
          api-key: ${KEY}
`);
  const chat = await postChat(gateway.url, { model: "gpt-4o" });
  assert.equal(chat.status, 200, await chat.text());
  const seen = await azure.received(1);
  assert.equal(seen.path, "/openai/v1/chat/completions");
  assert.equal(seen.headers.get("api-key"), KEY);
  assert.equal(seen.headers.get("authorization"), null);

  const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: "sk-test", maxRetries: 0 });
  const embedded = await client.embeddings.create({
    model: "text-embedding-3-small",
    input: "hello",
  });
  assert.equal(embedded.data.length, 1);
  assert.equal((await azure.received(2)).path, "/openai/v1/embeddings");
});

Deno.test("azure-openai: an instance's path names its deployment and api-version", async () => {
  await using azure = await startAzureOpenai({ apiKey: KEY, deployments: ["gpt-4o-prod"] });
  await using gateway = await startGateway(`model:
  services:
    chat:
      instances:
        - name: gpt-4o
          base-url: ${azure.url}
          adapter: azure-openai
          api-key: ${KEY}
          path: ${DEPLOYMENT_PATH}
`);
  const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: "sk-test", maxRetries: 0 });
  const answer = await client.chat.completions.create({
    model: "gpt-4o",
    messages: [{ role: "user", content: "Hi" }],
  });
  assert.equal(answer.choices[0]?.message.content, "Hello from azure-openai");
  const seen = await azure.received(1);
  assert.equal(seen.path, DEPLOYMENT_PATH);
  assert.equal(seen.headers.get("api-key"), KEY);

  // Without a completion service, the deployment's completions endpoint serves /v1/completions.
  const completion = await client.completions.create({ model: "gpt-4o", prompt: "Hi" });
  assert.equal(completion.object, "text_completion");
  assert.equal(
    (await azure.received(2)).path,
    "/openai/deployments/gpt-4o-prod/completions?api-version=2024-10-21",
  );
});

Deno.test("azure-openai: Azure's errors reach the client as it sent them", async () => {
  await using azure = await startAzureOpenai({ apiKey: KEY, deployments: ["gpt-4o-prod"] });
  await using gateway = await startGateway(`model:
  services:
    chat:
      instances:
        - { name: wrong-key, base-url: "${azure.url}", adapter: azure-openai, api-key: nope }
        - name: no-version
          base-url: ${azure.url}
          adapter: azure-openai
          api-key: ${KEY}
          path: /openai/deployments/gpt-4o-prod/chat/completions
`);
  const refused = await postChat(gateway.url, { model: "wrong-key" });
  assert.equal(refused.status, 401);
  const body = await refused.json();
  assert.equal(body.error.code, "401");
  assert.match(body.error.message, /^Access denied due to invalid subscription key/);

  const unversioned = await postChat(gateway.url, { model: "no-version" });
  assert.equal(unversioned.status, 404);
  assert.deepEqual(await unversioned.json(), {
    error: { code: "404", message: "Resource not found" },
  });
});

Deno.test("azure-openai: discovery and health read /openai/v1/models with the key", async () => {
  await using azure = await startAzureOpenai({ apiKey: KEY, models: ["gpt-4o", "o4-mini"] });
  await using gateway = await startGateway(`model:
  discovery: { interval: 100 }
  health-check: { interval: 100, timeout: 500 }
  services:
    chat:
      instances:
        - name: "*"
          base-url: ${azure.url}
          adapter: azure-openai
          api-key: ${KEY}
          discover: true
`);
  const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: "sk-test", maxRetries: 0 });
  await eventually(async () => {
    assert.deepEqual((await client.models.list()).data.map((model) => model.id), [
      "gpt-4o",
      "o4-mini",
    ]);
  }, 2_000);
  await eventually(
    () => Promise.resolve(assert.ok(azure.hits("GET", "/openai/v1/models") >= 2)),
    2_000,
  );
  assert.ok(azure.requests.every((request) => request.headers.get("api-key") === KEY));
  assert.ok(azure.requests.every((request) => request.method === "GET"));
  const status = await (await fetch(`${gateway.url}/v1/chat/status`)).json();
  assert.equal(status.instances[0].health.status, "up");
});

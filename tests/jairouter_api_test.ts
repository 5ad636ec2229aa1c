/**
 * JAiRouter's `/api/v1/*` prefix (its v2.6+ client paths): the same routes as `/v1/*`, with
 * the same authentication, observation and answers, listed once in the OpenAPI document.
 */
import assert from "node:assert/strict";
import { Logger } from "../src/logging/logger.ts";
import { eventually } from "./fixtures/gate.ts";
import { LogLines } from "./fixtures/log_lines.ts";
import { gatewayOverBackend, oneService } from "./fixtures/gateway.ts";
import { scrape } from "./fixtures/prometheus.ts";

const CLIENT_KEY = "sk-jai-client-1234";

function config(backendUrl: string, auth = false): string {
  const services = oneService("chat", [backendUrl], { model: "qwen" }).replace(/^model:\n/, "");
  return [
    ...(auth ? ["auth:", "  enabled: true", "  keys:", `    - {id: ops, key: ${CLIENT_KEY}}`] : []),
    "model:",
    services,
    "    embedding:",
    "      instances:",
    "        - name: embed",
    `          base-url: ${backendUrl}`,
  ].join("\n");
}

async function post(url: string, path: string, body: unknown, key?: string): Promise<Response> {
  return await fetch(`${url}${path}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(key ? { authorization: `Bearer ${key}` } : {}),
    },
    body: JSON.stringify(body),
  });
}

Deno.test("/api/v1 serves chat, embeddings, models and status as /v1 does", async () => {
  const output = new LogLines();
  const logger = new Logger({ level: "info", format: "json", output });
  await using t = await gatewayOverBackend((url) => config(url), {
    backend: { name: "a" },
    gateway: { logger },
  });
  const { url } = t.gateway;
  const chat = await post(url, "/api/v1/chat/completions", {
    model: "qwen",
    messages: [{ role: "user", content: "hi" }],
  });
  assert.equal(chat.status, 200, await chat.clone().text());
  assert.equal((await chat.json()).backend, "a");
  assert.equal(t.backend.requests.at(-1)?.path, "/v1/chat/completions");

  const embed = await post(url, "/api/v1/embeddings", { model: "embed", input: "x" });
  assert.equal(embed.status, 200, await embed.clone().text());
  await embed.body?.cancel();

  const models = await fetch(`${url}/api/v1/models`);
  assert.equal(models.status, 200);
  const listed: { data: { id: string }[] } = await models.json();
  assert.deepEqual(listed.data.map((model) => model.id).toSorted(), ["embed", "qwen"]);

  const status = await fetch(`${url}/api/v1/chat/status`);
  assert.equal(status.status, 200);
  const plain = await fetch(`${url}/v1/chat/status`);
  const [aliased, original] = [await status.json(), await plain.json()];
  assert.deepEqual(Object.keys(aliased).toSorted(), Object.keys(original).toSorted());

  const unknown = await post(url, "/api/v1/chat/completions", { model: "nope" });
  assert.equal(unknown.status, 404);
  assert.equal((await unknown.json()).error.code, "model_not_found");

  // Observed as /v1 traffic is: a request line with the path the client sent, and the
  // request counted in the chat service's metrics.
  await eventually(async () => {
    await Promise.resolve();
    const lines = output.lines.map((line) => JSON.parse(line));
    const chatLine = lines.find((line) => line.service === "chat" && line.status === 200);
    assert.ok(chatLine, output.lines.join("\n"));
    assert.match(JSON.stringify(chatLine), /"POST \/api\/v1\/chat\/completions 200/);
  }, 2000);
  await eventually(async () => {
    const metrics = await scrape(url);
    assert.equal(
      metrics.value("switchyard_requests_total", { service: "chat", model: "qwen", status: "200" }),
      1,
    );
  }, 2000);
});

Deno.test("/api/v1 asks for the same client key as /v1", async () => {
  await using t = await gatewayOverBackend((url) => config(url, true));
  const { url } = t.gateway;
  const body = { model: "qwen", messages: [{ role: "user", content: "hi" }] };
  const refused = await post(url, "/api/v1/chat/completions", body);
  assert.equal(refused.status, 401);
  await refused.body?.cancel();
  const models = await fetch(`${url}/api/v1/models`);
  assert.equal(models.status, 401);
  await models.body?.cancel();
  const allowed = await post(url, "/api/v1/chat/completions", body, CLIENT_KEY);
  assert.equal(allowed.status, 200);
  await allowed.body?.cancel();
});

Deno.test("the OpenAPI document lists each /v1 route once and says /api/v1 serves it too", async () => {
  await using t = await gatewayOverBackend((url) => config(url));
  const response = await fetch(`${t.gateway.url}/openapi.json`);
  assert.equal(response.status, 200);
  const document: { paths: Record<string, unknown>; info: { description?: string } } =
    await response.json();
  const paths = Object.keys(document.paths);
  assert.ok(paths.includes("/v1/chat/completions"));
  assert.deepEqual(paths.filter((path) => path.startsWith("/api/v1")), []);
  assert.match(document.info.description ?? "", /\/api\/v1/);
});

/**
 * The OpenAPI document and the offline docs page.
 */
import assert from "node:assert/strict";
import { startGateway } from "./fixtures/gateway.ts";

const V1_PATHS = [
  "/v1/chat/completions",
  "/v1/completions",
  "/v1/embeddings",
  "/v1/rerank",
  "/v1/audio/speech",
  "/v1/audio/transcriptions",
  "/v1/images/generations",
  "/v1/images/edits",
  "/v1/models",
  "/v1/chat/status",
  "/v1/embeddings/status",
  "/v1/rerank/status",
  "/v1/audio/speech/status",
  "/v1/audio/transcriptions/status",
  "/v1/images/generations/status",
  "/v1/images/edits/status",
];

async function withGateway(use: (url: string) => Promise<void>): Promise<void> {
  await using gateway = await startGateway("model:\n  services: {}\n");
  await use(gateway.url);
}

Deno.test("/openapi.json is valid JSON listing every /v1 path", async () => {
  await withGateway(async (url) => {
    const response = await fetch(`${url}/openapi.json`);
    assert.equal(response.status, 200);
    const document = JSON.parse(await response.text());
    assert.match(document.openapi, /^3\./);
    assert.equal(typeof document.info.title, "string");
    const paths = Object.keys(document.paths);
    for (const path of V1_PATHS) assert.ok(paths.includes(path), `${path} is documented`);
    assert.ok(document.paths["/v1/chat/completions"].post, "chat completions is a POST");
    assert.ok(document.paths["/v1/models"].get, "models is a GET");
  });
});

Deno.test("/docs references only assets the gateway serves, and serves them", async () => {
  await withGateway(async (url) => {
    const page = await fetch(`${url}/docs`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type") ?? "", /^text\/html/);
    const html = await page.text();
    const references = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1]!);
    assert.ok(references.includes("/docs/swagger-ui.css"));
    assert.ok(references.includes("/docs/swagger-ui-bundle.js"));
    for (const reference of references) {
      assert.match(reference, /^\/(?!\/)/, `${reference} is served by the gateway itself`);
    }
    assert.doesNotMatch(html, /https?:\/\//, "no external URL in the page");

    const css = await fetch(`${url}/docs/swagger-ui.css`);
    assert.equal(css.status, 200);
    assert.match(css.headers.get("content-type") ?? "", /^text\/css/);
    assert.ok((await css.text()).includes(".swagger-ui"));
    const js = await fetch(`${url}/docs/swagger-ui-bundle.js`);
    assert.equal(js.status, 200);
    assert.match(js.headers.get("content-type") ?? "", /javascript/);
    assert.ok((await js.text()).includes("SwaggerUIBundle"));
  });
});

Deno.test("/openapi.json declares how clients and admins authenticate, per operation", async () => {
  await withGateway(async (url) => {
    const document = await (await fetch(`${url}/openapi.json`)).json();
    const schemes = document.components.securitySchemes;
    assert.deepEqual(schemes.clientKey, { ...schemes.clientKey, type: "http", scheme: "bearer" });
    assert.deepEqual(schemes.clientKeyHeader, {
      ...schemes.clientKeyHeader,
      type: "apiKey",
      in: "header",
      name: "x-api-key",
    });
    assert.deepEqual(schemes.adminKey, { ...schemes.adminKey, type: "http", scheme: "bearer" });
    assert.deepEqual(document.paths["/v1/chat/completions"].post.security, [
      { clientKey: [] },
      { clientKeyHeader: [] },
    ]);
    assert.deepEqual(document.paths["/v1/models"].get.security, [
      { clientKey: [] },
      { clientKeyHeader: [] },
    ]);
    const adminPaths = Object.keys(document.paths).filter((path) => path.startsWith("/admin/"));
    assert.ok(adminPaths.length > 0, "the admin API is documented");
    for (const path of adminPaths) {
      for (const operation of Object.values(document.paths[path])) {
        assert.deepEqual((operation as { security: unknown }).security, [{ adminKey: [] }], path);
      }
    }
    for (const [path, item] of Object.entries(document.paths)) {
      if (path.startsWith("/v1/") || path.startsWith("/admin/") || path.startsWith("/api/v1/")) {
        continue;
      }
      for (const operation of Object.values(item as Record<string, { security?: unknown }>)) {
        assert.equal(operation.security, undefined, `${path} needs no key`);
      }
    }
  });
});

Deno.test("the docs page keeps an entered key across reloads", async () => {
  await withGateway(async (url) => {
    const html = await (await fetch(`${url}/docs`)).text();
    assert.match(html, /persistAuthorization: true/);
  });
});

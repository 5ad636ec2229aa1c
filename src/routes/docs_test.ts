import assert from "node:assert/strict";
import { OpenAPIHono } from "@hono/zod-openapi";
import type { GatewayEnv } from "../gateway_env.ts";
import { type DocsAssets, mountDocsRoutes } from "./docs.ts";

const encoder = new TextEncoder();

/** Docs assets that count how often they are loaded. */
function countedAssets(): { loads: number; load: () => Promise<DocsAssets> } {
  const counter = {
    loads: 0,
    load: () => {
      counter.loads++;
      return Promise.resolve({
        css: encoder.encode(".swagger-ui{}"),
        bundle: encoder.encode("var SwaggerUIBundle;"),
      });
    },
  };
  return counter;
}

Deno.test("the docs page's assets are loaded on their first request, once", async () => {
  const assets = countedAssets();
  const app = new OpenAPIHono<GatewayEnv>();
  mountDocsRoutes(app, { version: "1.0.0", loadAssets: assets.load });
  assert.equal(assets.loads, 0, "nothing loaded when mounted");
  assert.equal((await app.request("/docs")).status, 200);
  assert.equal(assets.loads, 0, "the page itself needs no asset");

  const [css, bundle] = await Promise.all([
    app.request("/docs/swagger-ui.css"),
    app.request("/docs/swagger-ui-bundle.js"),
  ]);
  assert.equal(css.headers.get("content-type"), "text/css");
  assert.equal(await css.text(), ".swagger-ui{}");
  assert.equal(bundle.headers.get("content-type"), "text/javascript");
  assert.equal(await bundle.text(), "var SwaggerUIBundle;");
  assert.equal((await app.request("/docs/swagger-ui.css")).status, 200);
  assert.equal(assets.loads, 1, "loaded once, kept for later requests");
});

/**
 * The OpenAPI document and a docs page whose assets the gateway serves itself, so it works on
 * a host with no internet.
 * @module
 */
import css from "swagger-ui-dist/swagger-ui.css" with { type: "text" };
import bundle from "swagger-ui-dist/swagger-ui-bundle.js" with { type: "text" };
import type { GatewayApp } from "../gateway_env.ts";

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Switchyard API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
<style>body { margin: 0 } .swagger-ui .topbar { display: none }</style>
</head>
<body>
<div id="ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script>
  window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#ui", deepLinking: true });
</script>
</body>
</html>`;

/** Mounts `GET /openapi.json`, `GET /docs` and the page's assets. */
export function mountDocsRoutes(app: GatewayApp, info: { version: string }): void {
  app.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: {
      title: "Switchyard",
      version: info.version,
      description: "An OpenAI-compatible gateway in front of self-hosted model servers. " +
        "Every /v1 route is also served under /api/v1, JAiRouter's prefix since its v2.6.",
    },
  });
  app.get("/docs", (c) => c.html(PAGE));
  const cached = { "cache-control": "public, max-age=86400" };
  app.get(
    "/docs/swagger-ui.css",
    (c) => c.body(css, 200, { ...cached, "content-type": "text/css" }),
  );
  app.get(
    "/docs/swagger-ui-bundle.js",
    (c) => c.body(bundle, 200, { ...cached, "content-type": "text/javascript" }),
  );
}

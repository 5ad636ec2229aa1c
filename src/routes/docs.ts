/**
 * The OpenAPI document and a docs page whose assets the gateway serves itself, so it works on
 * a host with no internet.
 * @module
 */
import type { GatewayApp } from "../gateway_env.ts";
import { type OpenApiDocument, withSecurity } from "./openapi_security.ts";

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
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#ui",
    deepLinking: true,
    persistAuthorization: true,
  });
</script>
</body>
</html>`;

/** The docs page's stylesheet and script, as served. */
export interface DocsAssets {
  readonly css: Uint8Array<ArrayBuffer>;
  readonly bundle: Uint8Array<ArrayBuffer>;
}

/**
 * Swagger UI's files, embedded in the binary. Imported on first use: the script alone is 1.7 MB,
 * held by every gateway that imported it at start, though most never serve the page.
 */
async function loadSwaggerUi(): Promise<DocsAssets> {
  const [css, bundle] = await Promise.all([
    import("swagger-ui-dist/swagger-ui.css", { with: { type: "bytes" } }),
    import("swagger-ui-dist/swagger-ui-bundle.js", { with: { type: "bytes" } }),
  ]);
  return { css: css.default, bundle: bundle.default };
}

/** Mounts `GET /openapi.json`, `GET /docs` and the page's assets. */
export function mountDocsRoutes(app: GatewayApp, options: {
  readonly version: string;
  /** Loads the page's assets, on the first request for one. @default Swagger UI's files */
  readonly loadAssets?: () => Promise<DocsAssets>;
}): void {
  // The routes are all mounted before the first request asks: the document is made once.
  let document: OpenApiDocument | undefined;
  app.get("/openapi.json", (c) =>
    c.json(
      document ??= withSecurity(app.getOpenAPI31Document({
        openapi: "3.1.0",
        info: {
          title: "Switchyard",
          version: options.version,
          description: "An OpenAI-compatible gateway in front of self-hosted model servers. " +
            "Every /v1 route is also served under /api/v1, JAiRouter's prefix since its v2.6.",
        },
      })),
    ));
  app.get("/docs", (c) => c.html(PAGE));
  const load = options.loadAssets ?? loadSwaggerUi;
  let loaded: Promise<DocsAssets> | undefined;
  const assets = () => loaded ??= load();
  const cached = { "cache-control": "public, max-age=86400" };
  app.get(
    "/docs/swagger-ui.css",
    async (c) => c.body((await assets()).css, 200, { ...cached, "content-type": "text/css" }),
  );
  app.get(
    "/docs/swagger-ui-bundle.js",
    async (c) =>
      c.body((await assets()).bundle, 200, { ...cached, "content-type": "text/javascript" }),
  );
}

/**
 * The live status page at `/status` (and `/`): one HTML file served from the binary, with no
 * external assets, that reads `/status.json` every two seconds.
 * @module
 */
import page from "./status_page.html" with { type: "text" };
import type { GatewayApp } from "../gateway_env.ts";

/** Mounts `GET /status`, and `GET /` leading to it. */
export function mountStatusPage(app: GatewayApp): void {
  app.get("/status", (c) => c.html(page, 200, { "cache-control": "no-cache" }));
  app.get("/", (c) => c.redirect("/status", 302));
}
